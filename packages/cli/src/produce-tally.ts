import type { KinesisProducer, UserRecord } from '@kinesis-ts/producer'
import { errorCodeOf } from '@kinesis-ts/shared'

export interface ProduceTotals {
  readonly successful: number
  readonly failed: number
  readonly failuresByCode: ReadonlyMap<string, number>
}

/**
 * Offers records to a producer while keeping at most `window` of them unsettled, and counts the
 * outcomes. Awaiting every addUserRecord in turn would send one record per recordMaxBufferedTime;
 * not awaiting at all would hold every offered record in this process.
 */
export class ProduceTally implements ProduceTotals {
  successful = 0
  readonly failuresByCode = new Map<string, number>()
  readonly #producer: KinesisProducer
  readonly #slots: (Promise<void> | undefined)[]
  #next = 0

  constructor(producer: KinesisProducer, window = 20_000) {
    this.#producer = producer
    this.#slots = new Array<Promise<void> | undefined>(window)
  }

  get failed(): number {
    let total = 0
    for (const count of this.failuresByCode.values()) total += count
    return total
  }

  /** Resolves once the record is accepted and the window has room for the next one. */
  async offer(record: UserRecord): Promise<void> {
    const slot = this.#next++ % this.#slots.length
    const oldest = this.#slots[slot]
    if (oldest !== undefined) await oldest
    this.#slots[slot] = this.#producer.addUserRecord(record).then(this.#onSuccess, this.#onFailure)
  }

  /** Resolves when every offered record has settled. */
  async settled(): Promise<ProduceTotals> {
    await this.#producer.flush()
    await Promise.all(this.#slots)
    return { successful: this.successful, failed: this.failed, failuresByCode: this.failuresByCode }
  }

  readonly #onSuccess = (): void => {
    this.successful++
  }

  readonly #onFailure = (error: unknown): void => {
    const attempts = (error as { result?: { attempts?: readonly { errorCode?: string }[] } }).result?.attempts
    const code = attempts?.at(-1)?.errorCode ?? errorCodeOf(error) ?? 'Unknown'
    this.failuresByCode.set(code, (this.failuresByCode.get(code) ?? 0) + 1)
  }
}

export function formatFailures(failuresByCode: ReadonlyMap<string, number>): string {
  return [...failuresByCode].map(([code, count]) => `${code} ${count}`).join(', ')
}

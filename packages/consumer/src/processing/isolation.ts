import type { ResolvedDeadLetterPolicy } from '../config-types.js'
import { compareExtended } from '../records/sequence.js'
import type { ExtendedSequenceNumber, KinesisClientRecord, PoisonRecord } from '../types.js'

/** One processRecords call on `records`; rejects with what the processor threw. */
export type TryRecords = (records: KinesisClientRecord[]) => Promise<void>

/**
 * How a batch is settled under a dead-letter policy. The worker-thread processor settles each lane's
 * part with it, so a failure is isolated within the lane that failed.
 */
export interface Isolation {
  /**
   * Every record of `records` processed by a successful `tryRecords` call, or handed to deadLetter:
   * true. False when the shard stopped first (the rest is abandoned, not processed).
   */
  settle(records: KinesisClientRecord[], tryRecords: TryRecords): Promise<boolean>
}

/** What the isolation reports and waits on; the shard consumer's metrics, events, backoff and checkpoint. */
export interface IsolationHooks {
  readonly shardId: string
  /** True once the shard is stopping: nothing new starts after a failure. */
  stopped(): boolean
  /** Waits before try `attempt + 1` of something that failed; false when the shard stopped meanwhile. */
  pause(attempt: number): Promise<boolean>
  /** Records at or below it are done: the processor checkpointed them. */
  checkpoint(): ExtendedSequenceNumber
  /** A try threw; `attempt` counts the tries of these records from 0. */
  failed(error: unknown, attempt: number, records: readonly KinesisClientRecord[], elapsedMillis: number): void
  /** Records delivered again after a failure. */
  retried(records: readonly KinesisClientRecord[]): void
  /** A failing batch split into `pieces`. */
  bisected(records: readonly KinesisClientRecord[], pieces: number): void
  deadLettered(poison: PoisonRecord): void
  deadLetterFailed(poison: PoisonRecord, error: unknown, attempt: number): void
}

/**
 * Bounded retries, then bisection (or one record at a time) down to the records that fail alone, which
 * go to deadLetter. Pieces are settled in shard order, one after the other: records that succeed are
 * processed in order, and a later record of a poison record's key is delivered only once the poison
 * record is dead-lettered. A deadLetter that throws is called again after a backoff, for as long as
 * it takes: a record is never dropped.
 */
export class DeadLetterIsolation implements Isolation {
  readonly #policy: ResolvedDeadLetterPolicy
  readonly #hooks: IsolationHooks

  constructor(policy: ResolvedDeadLetterPolicy, hooks: IsolationHooks) {
    this.#policy = policy
    this.#hooks = hooks
  }

  settle(records: KinesisClientRecord[], tryRecords: TryRecords): Promise<boolean> {
    return this.#settle(records, tryRecords, new Map(), true)
  }

  async #settle(
    records: KinesisClientRecord[],
    tryRecords: TryRecords,
    failures: Map<KinesisClientRecord, number>,
    firstDelivery: boolean,
  ): Promise<boolean> {
    let part = records
    let lastError: unknown
    for (let attempt = 0; attempt < this.#policy.maxAttempts; attempt++) {
      if (!firstDelivery || attempt > 0) {
        if (this.#hooks.stopped()) return false
        // Checkpointed inside a failed try: the processor says they are done, and delivering them again
        // would make its checkpoint(record) calls for them invalid (below the checkpoint).
        const before = part.length
        part = this.#aboveCheckpoint(part)
        if (part.length === 0 && before > 0) return true
        this.#hooks.retried(part)
      }
      const started = performance.now()
      try {
        await tryRecords(part)
        return true
      } catch (error) {
        lastError = error
        for (const record of part) failures.set(record, (failures.get(record) ?? 0) + 1)
        this.#hooks.failed(error, attempt, part, performance.now() - started)
        if (attempt + 1 < this.#policy.maxAttempts && !(await this.#hooks.pause(attempt))) return false
      }
    }
    if (this.#hooks.stopped()) return false
    const [only] = part
    if (part.length <= 1) {
      // A batch that fails with no record in it (an empty fetch) has nothing to hand over.
      return only === undefined ? true : this.#deadLetter(only, lastError, failures.get(only) ?? 0)
    }
    const pieces = this.#policy.bisectOnError ? halves(part) : part.map((record) => [record])
    this.#hooks.bisected(part, pieces.length)
    for (const piece of pieces) {
      if (!(await this.#settle(piece, tryRecords, failures, false))) return false
    }
    return true
  }

  async #deadLetter(record: KinesisClientRecord, error: unknown, attempts: number): Promise<boolean> {
    const poison: PoisonRecord = { shardId: this.#hooks.shardId, record, error, attempts }
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#policy.deadLetter(poison)
        this.#hooks.deadLettered(poison)
        return true
      } catch (failure) {
        this.#hooks.deadLetterFailed(poison, failure, attempt)
        if (!(await this.#hooks.pause(attempt))) return false
      }
    }
  }

  #aboveCheckpoint(records: KinesisClientRecord[]): KinesisClientRecord[] {
    const checkpoint = this.#hooks.checkpoint()
    return records.filter((record) => compareExtended(record, checkpoint) > 0)
  }
}

function halves<T>(items: T[]): T[][] {
  const middle = Math.ceil(items.length / 2)
  return [items.slice(0, middle), items.slice(middle)]
}

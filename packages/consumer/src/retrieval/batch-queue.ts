import { AbortedError } from '@kinesis-ts/shared'

type Entry<T> = { value: T; bytes: number } | { error: unknown; bytes: 0 }

/**
 * A bounded single-consumer queue between a prefetching reader and the shard loop: the reader waits
 * for space (batches and bytes), the shard loop waits for the next entry; both waits are abortable.
 * An entry larger than the byte bound is still accepted when the queue is empty, so one oversized
 * batch cannot wedge the reader.
 */
export class BatchQueue<T> {
  readonly #entries: Entry<T>[] = []
  readonly #maxEntries: number
  readonly #maxBytes: number
  #bytes = 0
  #onItem: (() => void) | undefined
  #onSpace: (() => void) | undefined

  constructor(maxEntries: number, maxBytes: number) {
    this.#maxEntries = maxEntries
    this.#maxBytes = maxBytes
  }

  get size(): number {
    return this.#entries.length
  }

  get bytes(): number {
    return this.#bytes
  }

  #full(): boolean {
    return this.#entries.length > 0 && (this.#entries.length >= this.#maxEntries || this.#bytes >= this.#maxBytes)
  }

  push(value: T, bytes: number): void {
    this.#entries.push({ value, bytes })
    this.#bytes += bytes
    this.#wake()
  }

  pushError(error: unknown): void {
    this.#entries.push({ error, bytes: 0 })
    this.#wake()
  }

  #wake(): void {
    const wake = this.#onItem
    this.#onItem = undefined
    wake?.()
  }

  /** Resolves once there is room for another entry. */
  waitForSpace(signal: AbortSignal): Promise<void> {
    if (!this.#full()) return Promise.resolve()
    return this.#wait(signal, (wake) => {
      this.#onSpace = wake
    })
  }

  /** The next entry, waiting for one; rethrows a queued error. */
  async take(signal: AbortSignal): Promise<T> {
    while (this.#entries.length === 0) {
      await this.#wait(signal, (wake) => {
        this.#onItem = wake
      })
    }
    const entry = this.#entries.shift()!
    this.#bytes -= entry.bytes
    const space = this.#onSpace
    this.#onSpace = undefined
    space?.()
    if ('error' in entry) throw entry.error
    return entry.value
  }

  #wait(signal: AbortSignal, register: (wake: () => void) => void): Promise<void> {
    if (signal.aborted) return Promise.reject(new AbortedError(signal.reason))
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(new AbortedError(signal.reason))
      signal.addEventListener('abort', onAbort, { once: true })
      register(() => {
        signal.removeEventListener('abort', onAbort)
        resolve()
      })
    })
  }
}

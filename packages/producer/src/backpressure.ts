/**
 * Admission of user records against `maxOutstandingRecords` and `maxBufferedBytes`. Callers beyond
 * either limit wait in arrival order; a record larger than the byte limit is let in when nothing
 * else is outstanding, or it could never go.
 *
 * A waiting call is queued as the caller's own item and handed to `admit` when its turn comes: no
 * promise or closure per waiter, because a caller that never awaits can queue a million of them.
 * `admit` runs inside release(), so it must not re-enter the producer synchronously.
 */
export class Admission<Item extends { readonly bytes: number }> {
  readonly #maxRecords: number
  readonly #maxBytes: number
  readonly #admit: (item: Item) => void
  #records = 0
  #bytes = 0
  readonly #waiting: (Item | undefined)[] = []
  #waitingHead = 0

  constructor(maxRecords: number, maxBytes: number, admit: (item: Item) => void) {
    this.#maxRecords = maxRecords
    this.#maxBytes = maxBytes
    this.#admit = admit
  }

  get records(): number {
    return this.#records
  }

  get bytes(): number {
    return this.#bytes
  }

  get waiting(): number {
    return this.#waiting.length - this.#waitingHead
  }

  /** True when the record was admitted at once; otherwise call wait(). */
  tryAdmit(bytes: number): boolean {
    if (this.waiting > 0 || !this.#fits(bytes)) return false
    this.#records++
    this.#bytes += bytes
    return true
  }

  /** Queues `item`; it is handed to `admit` once there is room (FIFO). */
  wait(item: Item): void {
    this.#waiting.push(item)
  }

  release(bytes: number): void {
    this.#records--
    this.#bytes -= bytes
    while (this.waiting > 0) {
      const next = this.#waiting[this.#waitingHead]!
      if (!this.#fits(next.bytes)) break
      this.#waiting[this.#waitingHead++] = undefined
      if (this.#waitingHead > 1024 && this.#waitingHead * 2 > this.#waiting.length) {
        this.#waiting.splice(0, this.#waitingHead)
        this.#waitingHead = 0
      }
      this.#records++
      this.#bytes += next.bytes
      this.#admit(next)
    }
  }

  /** Lets every waiter in (destroy: they will fail at once). */
  releaseAll(): void {
    while (this.waiting > 0) {
      const next = this.#waiting[this.#waitingHead++]!
      this.#records++
      this.#bytes += next.bytes
      this.#admit(next)
    }
    this.#waiting.length = 0
    this.#waitingHead = 0
  }

  #fits(bytes: number): boolean {
    if (this.#records === 0) return true
    return this.#records + 1 <= this.#maxRecords && this.#bytes + bytes <= this.#maxBytes
  }
}

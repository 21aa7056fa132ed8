/**
 * Admission of user records against `maxOutstandingRecords` and `maxBufferedBytes`. Callers beyond
 * either limit wait in arrival order; a record larger than the byte limit is let in when nothing
 * else is outstanding, or it could never go.
 */
interface Waiter {
  readonly bytes: number
  readonly admit: () => void
}

export class Admission {
  readonly #maxRecords: number
  readonly #maxBytes: number
  #records = 0
  #bytes = 0
  readonly #waiting: (Waiter | undefined)[] = []
  #waitingHead = 0

  constructor(maxRecords: number, maxBytes: number) {
    this.#maxRecords = maxRecords
    this.#maxBytes = maxBytes
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

  /** Resolves once the record is admitted (FIFO). */
  wait(bytes: number): Promise<void> {
    return new Promise((resolve) => {
      this.#waiting.push({ bytes, admit: resolve })
    })
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
      next.admit()
    }
  }

  /** Lets every waiter in (destroy: they will fail at once). */
  releaseAll(): void {
    while (this.waiting > 0) {
      const next = this.#waiting[this.#waitingHead++]!
      this.#records++
      this.#bytes += next.bytes
      next.admit()
    }
    this.#waiting.length = 0
    this.#waitingHead = 0
  }

  #fits(bytes: number): boolean {
    if (this.#records === 0) return true
    return this.#records + 1 <= this.#maxRecords && this.#bytes + bytes <= this.#maxBytes
  }
}

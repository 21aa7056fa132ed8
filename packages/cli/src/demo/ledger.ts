/**
 * What the demo's consumers delivered, checked against what the producer sent. At-least-once
 * delivery allows duplicates; it does not allow a loss, nor a key's records arriving out of order
 * the first time they are seen. A redelivery (after a handoff) replays an earlier stretch of a key:
 * that is counted as duplicates, not as disorder.
 */
export interface LedgerReport {
  readonly expected: number
  readonly delivered: number
  readonly unique: number
  readonly duplicates: number
  readonly missing: number
  /** First deliveries of a key that skipped over an earlier, not yet delivered record of that key. */
  readonly outOfOrder: number
  readonly foreign: number
  readonly passed: boolean
}

export class DeliveryLedger {
  readonly #counts: Uint16Array
  readonly #keys: number
  /** Per key: the position of the last record delivered for the first time. */
  readonly #lastFirst: Int32Array
  #delivered = 0
  #unique = 0
  #outOfOrder = 0
  #foreign = 0

  constructor(expected: number, keys: number) {
    this.#counts = new Uint16Array(expected)
    this.#keys = keys
    this.#lastFirst = new Int32Array(keys).fill(-1)
  }

  get unique(): number {
    return this.#unique
  }

  get delivered(): number {
    return this.#delivered
  }

  /** Records one delivery; returns true if it was the record's first. */
  record(id: number): boolean {
    if (!Number.isInteger(id) || id < 0 || id >= this.#counts.length) {
      this.#foreign++
      return false
    }
    this.#delivered++
    const previous = this.#counts[id]!
    if (previous < 0xffff) this.#counts[id] = previous + 1
    if (previous > 0) return false
    this.#unique++
    const key = id % this.#keys
    const position = Math.floor(id / this.#keys)
    if (position !== this.#lastFirst[key]! + 1) this.#outOfOrder++
    this.#lastFirst[key] = Math.max(this.#lastFirst[key]!, position)
    return true
  }

  report(): LedgerReport {
    const expected = this.#counts.length
    const missing = expected - this.#unique
    return {
      expected,
      delivered: this.#delivered,
      unique: this.#unique,
      duplicates: this.#delivered - this.#unique,
      missing,
      outOfOrder: this.#outOfOrder,
      foreign: this.#foreign,
      passed: missing === 0 && this.#outOfOrder === 0,
    }
  }
}

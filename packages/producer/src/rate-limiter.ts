/** Per-shard write limits of Kinesis, per second. */
const SHARD_RECORDS_PER_SECOND = 1000
const SHARD_BYTES_PER_SECOND = 1024 * 1024

/** Throttling halves the rate, once per overload (see DECREASE_COOLDOWN_MS). */
const DECREASE_FACTOR = 0.5
/**
 * Throttles within this long of a decrease are the same overload (Kinesis meters a shard over a
 * second, and its bucket stays empty a while): they do not halve the rate again. Halving on each of
 * them crushed an ordered shard whose one big record was throttled twice in a row.
 */
const DECREASE_COOLDOWN_MS = 1_000
/**
 * Successes win back this share of the ceiling per second (since the last success or decrease),
 * not a step per request: a shard recovers in the same time at a 20 ms or a 200 ms round trip, and
 * many requests in flight do not make it climb faster.
 */
const INCREASE_PER_SECOND = 0.5
const MIN_FACTOR = 0.05

/**
 * Token buckets for one shard's records/s and bytes/s at `rateLimit`% of the shard limits, one
 * second of burst. Unlike the KPL's, the rate adapts: a throttled shard halves it (once per
 * overload), and successes raise it back linearly in time to the ceiling (AIMD), so retries stop
 * hammering a hot shard.
 */
export class ShardRateLimiter {
  readonly #maxRecords: number
  readonly #maxBytes: number
  #factor = 1
  #decreasedAt = Number.NEGATIVE_INFINITY
  #succeededAt: number
  #records: number
  #bytes: number
  #updatedAt: number

  constructor(rateLimitPercent: number, now: number) {
    this.#maxRecords = (SHARD_RECORDS_PER_SECOND * rateLimitPercent) / 100
    this.#maxBytes = (SHARD_BYTES_PER_SECOND * rateLimitPercent) / 100
    this.#records = this.#maxRecords
    this.#bytes = this.#maxBytes
    this.#updatedAt = now
    this.#succeededAt = now
  }

  /** Bytes per second it lets through now (the configured rate times factor). */
  get bytesPerSecond(): number {
    return this.#maxBytes * this.#factor
  }

  /** Current share of the configured rate (1 = full rate). */
  get factor(): number {
    return this.#factor
  }

  /**
   * Bytes one Kinesis record may have now, when it starts with a user record of `headBytes`: the
   * tokens there are, 0 when not even the head fits. A head larger than a whole second's bytes may go
   * when the bucket is full, or it would never go.
   */
  allowance(headBytes: number, now: number): number {
    this.#refill(now)
    if (this.#records < 1) return 0
    if (this.#bytes >= headBytes) return Math.floor(this.#bytes)
    const ceiling = this.#maxBytes * this.#factor
    return headBytes > ceiling && this.#bytes >= ceiling ? headBytes : 0
  }

  /** Takes the tokens of one Kinesis record of `bytes` (after allowance said it may go). */
  take(bytes: number, now: number): void {
    this.#refill(now)
    this.#records -= 1
    this.#bytes -= bytes
  }

  /** Milliseconds until a record of `bytes` could be taken. */
  waitFor(bytes: number, now: number): number {
    this.#refill(now)
    const recordRate = (this.#maxRecords * this.#factor) / 1000
    const byteRate = (this.#maxBytes * this.#factor) / 1000
    const needRecords = Math.max(0, 1 - this.#records) / recordRate
    const needBytes = Math.max(0, Math.min(bytes, this.#maxBytes * this.#factor) - this.#bytes) / byteRate
    return Math.max(1, Math.ceil(Math.max(needRecords, needBytes)))
  }

  throttled(now: number): void {
    if (now - this.#decreasedAt < DECREASE_COOLDOWN_MS) return
    this.#decreasedAt = now
    // The climb back starts now, not at the last success before the overload.
    this.#succeededAt = now
    this.#factor = Math.max(MIN_FACTOR, this.#factor * DECREASE_FACTOR)
    this.#records = Math.min(this.#records, this.#maxRecords * this.#factor)
    this.#bytes = Math.min(this.#bytes, this.#maxBytes * this.#factor)
  }

  succeeded(now: number): void {
    const elapsed = Math.max(0, now - this.#succeededAt)
    this.#succeededAt = now
    this.#factor = Math.min(1, this.#factor + (INCREASE_PER_SECOND * elapsed) / 1000)
  }

  #refill(now: number): void {
    const elapsed = now - this.#updatedAt
    if (elapsed <= 0) return
    this.#updatedAt = now
    const records = this.#maxRecords * this.#factor
    const bytes = this.#maxBytes * this.#factor
    this.#records = Math.min(records, this.#records + (records * elapsed) / 1000)
    this.#bytes = Math.min(bytes, this.#bytes + (bytes * elapsed) / 1000)
  }
}

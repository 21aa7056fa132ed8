/**
 * A token bucket on an injected clock: `ratePerSecond` tokens flow in continuously, up to `capacity`
 * (the burst). Kinesis meters each shard's writes this way, one bucket for records and one for bytes.
 */
export class TokenBucket {
  readonly ratePerSecond: number
  readonly capacity: number
  #tokens: number
  #at: number

  /** Starts full at `now` (ms): a fresh shard can take a whole burst at once. */
  constructor(ratePerSecond: number, capacity: number, now: number) {
    this.ratePerSecond = ratePerSecond
    this.capacity = capacity
    this.#tokens = capacity
    this.#at = now
  }

  /** Tokens available at `now` (time never runs backwards: an earlier `now` refills nothing). */
  available(now: number): number {
    if (now > this.#at) {
      this.#tokens = Math.min(this.capacity, this.#tokens + ((now - this.#at) * this.ratePerSecond) / 1000)
      this.#at = now
    }
    return this.#tokens
  }

  /** Takes `amount` tokens when all of them are there; otherwise takes none. */
  tryTake(amount: number, now: number): boolean {
    if (this.available(now) < amount) return false
    this.#tokens -= amount
    return true
  }
}

/** The write limits of one provisioned shard. */
export interface ShardLimits {
  readonly recordsPerSecond: number
  readonly bytesPerSecond: number
  /** Seconds of rate each bucket holds. */
  readonly burstSeconds: number
}

export const KINESIS_SHARD_LIMITS: ShardLimits = Object.freeze({
  recordsPerSecond: 1000,
  bytesPerSecond: 1024 * 1024,
  burstSeconds: 1,
})

/**
 * The largest entry Kinesis takes: a 1 MiB blob plus a 256-character key. The byte bucket always has room for
 * one, or a legal record larger than a second of rate would be throttled forever.
 */
export const MAX_ENTRY_BYTES = 1024 * 1024 + 256

/** A shard's byte bucket holds its burst, and never less than one largest legal entry. */
export const byteBucketCapacity = (limits: ShardLimits) =>
  Math.max(MAX_ENTRY_BYTES, limits.bytesPerSecond * limits.burstSeconds)

/** Both buckets of one shard: an entry goes through only when it fits both, and then takes from both. */
export class ShardThrottle {
  readonly #records: TokenBucket
  readonly #bytes: TokenBucket

  constructor(limits: ShardLimits, now: number) {
    this.#records = new TokenBucket(limits.recordsPerSecond, limits.recordsPerSecond * limits.burstSeconds, now)
    this.#bytes = new TokenBucket(limits.bytesPerSecond, byteBucketCapacity(limits), now)
  }

  /** Bytes the shard could take at `now` beyond its rate: what is left of its burst. */
  bytesAvailable(now: number): number {
    return this.#bytes.available(now)
  }

  /** True when the entry (one Kinesis record of `bytes` metered bytes) is within the limits; it is then charged. */
  tryAdmit(bytes: number, now: number): boolean {
    if (this.#records.available(now) < 1 || this.#bytes.available(now) < bytes) return false
    this.#records.tryTake(1, now)
    this.#bytes.tryTake(bytes, now)
    return true
  }
}

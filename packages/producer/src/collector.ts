import type { EntryBuilder } from './aggregator.js'
import { PRODUCER_LIMITS } from './defaults.js'
import type { Lanes, ShardLane } from './lanes.js'
import type { KinesisRecord, PendingUserRecord } from './pending.js'
import type { ShardRateLimiter } from './rate-limiter.js'

/** A lane short of rate tokens waits for this long's worth (see #wantedTokens). */
const TOKEN_WAIT_SECONDS = 0.25

export interface CollectorOptions {
  readonly preserveOrder: boolean
  readonly aggregationEnabled: boolean
  readonly aggregationMaxSize: number
  readonly aggregationMaxCount: number
  readonly collectionMaxCount: number
  readonly collectionMaxSize: number
  readonly recordMaxBufferedTime: number
  readonly recordTtl: number
}

export interface CollectorDeps {
  readonly lanes: Lanes
  readonly builder: EntryBuilder
  /** User records of `lane` whose recordTtl passed before they could go: they fail, in order. */
  readonly expire: (lane: ShardLane, users: readonly PendingUserRecord[], now: number) => void
  /** The current flush generation: records of an older one are waited for and go at once. */
  readonly flushGeneration: () => number
}

/** One PutRecords request's worth: Kinesis records of one stream, each with the lane it came from. */
export interface Batch {
  readonly records: KinesisRecord[]
  /** lanes[i] is the lane of records[i]. */
  readonly lanes: ShardLane[]
  readonly bytes: number
}

/**
 * The collect and rate-limit steps: builds PutRecords requests from the lanes that may send, taking
 * turns so one hot shard cannot starve the rest.
 *
 * A lane may send when it is not backing off and its first record is due: retried, waited for by a
 * flush, waited `recordMaxBufferedTime`, or the lane holds a full aggregate (`aggregationMaxSize`).
 * What it sends is bounded by its rate limiter's tokens.
 *
 * With `preserveOrder`, a lane sends one Kinesis record per request and has one request in flight:
 * Kinesis may throttle one entry of a request and store the next, so two entries of one shard in a
 * request could land out of order, and two requests in flight could too. So that this does not cap
 * a shard at one aggregate per round trip, the one record grows with what waited: an idle lane sends
 * once it holds `aggregationMaxSize`, but what accumulates while its request is in flight (or while
 * it backs off, or waits for rate tokens) goes out next as one aggregate of up to 1 MiB, Kinesis's
 * record limit. At 1 MiB/s per shard that is a second of the shard's bytes per round trip: the rate
 * limiter, not the round trip, bounds a shard, up to round trips of about a second. The one exception
 * is records sent as they are (aggregation off, or no shard map): a run of them may share a request
 * while no two have the same partition key, as records of different keys promise each other nothing.
 *
 * Without `preserveOrder` (the KPL's way) a lane sends as many aggregates of up to
 * `aggregationMaxSize` as fit, and may have several requests in flight; but a lane at its rate limit,
 * holding more than its tokens allow, sends what they allow as one aggregate of up to 1 MiB: the
 * shard's bytes carry more user records when each key is in one key table per 1 MiB rather than per
 * 50 KiB (with 2,000 hot keys of 100 B records, about 6% more), in fewer entries.
 */
export class Collector {
  readonly #options: CollectorOptions
  readonly #deps: CollectorDeps
  /** Largest aggregate a lane sends at once (see the class comment). */
  readonly #aggregateMaxBytes: number
  /** Largest aggregate of what waited: up to Kinesis's 1 MiB record limit (see the class comment). */
  readonly #grownAggregateMaxBytes: number

  constructor(options: CollectorOptions, deps: CollectorDeps) {
    this.#options = options
    this.#deps = deps
    this.#grownAggregateMaxBytes = Math.max(
      options.aggregationMaxSize,
      Math.min(PRODUCER_LIMITS.maxAggregateBytes, options.collectionMaxSize),
    )
    this.#aggregateMaxBytes = options.preserveOrder ? this.#grownAggregateMaxBytes : options.aggregationMaxSize
  }

  /** Whether the lane holds enough to go now without waiting for its buffering time. */
  isFull(lane: ShardLane): boolean {
    return this.#fullAt(lane, lane.queue.size, lane.queue.bytes)
  }

  /** Whether `user`, just added to `lane`, is the record that made it full. */
  filledBy(lane: ShardLane, user: PendingUserRecord): boolean {
    const { size, bytes } = lane.queue
    return this.#fullAt(lane, size, bytes) && !this.#fullAt(lane, size - 1, bytes - user.bytes)
  }

  #fullAt(lane: ShardLane, size: number, bytes: number): boolean {
    const o = this.#options
    if (o.aggregationEnabled && lane.shardId !== undefined) {
      return bytes >= o.aggregationMaxSize || size >= o.aggregationMaxCount
    }
    return size >= o.collectionMaxCount || bytes >= o.collectionMaxSize
  }

  /**
   * The next request that may go now (undefined when none), and the earliest time a lane that had
   * to wait (backoff, buffering time, rate tokens) may go: +Infinity when none is waiting on time.
   * Lanes whose requests are in flight are not waited for: their responses drain again.
   */
  take(now: number): { batch: Batch | undefined; wakeAt: number } {
    const o = this.#options
    const { lanes } = this.#deps
    const records: KinesisRecord[] = []
    const laneOf: ShardLane[] = []
    let bytes = 0
    let wakeAt = Number.POSITIVE_INFINITY
    let target: ShardLane['target'] | undefined
    const flushGeneration = this.#deps.flushGeneration()
    for (const lane of [...lanes.ready]) {
      if (records.length >= o.collectionMaxCount || bytes >= o.collectionMaxSize) break
      if (lane.retired || (target !== undefined && lane.target !== target)) continue
      if (o.preserveOrder && lane.inFlight > 0) continue
      const notBefore = Math.max(lane.notBefore, lane.tokensAt)
      if (notBefore > now) {
        wakeAt = Math.min(wakeAt, notBefore)
        continue
      }
      this.#expireHead(lane, now)
      const head = lane.queue.peek()
      if (head === undefined) {
        lanes.ready.delete(lane)
        continue
      }
      if (!this.#due(lane, head, now, flushGeneration)) {
        wakeAt = Math.min(wakeAt, head.arrivedAt + o.recordMaxBufferedTime)
        continue
      }
      const aggregate = o.aggregationEnabled && lane.shardId !== undefined
      // One record per lane per ordered request: do not spend it on the scraps of a fuller request.
      const room = o.collectionMaxSize - bytes
      if (
        o.preserveOrder &&
        aggregate &&
        records.length > 0 &&
        room < Math.min(lane.queue.bytes, this.#aggregateMaxBytes)
      ) {
        continue
      }
      // Raw records of one lane in one ordered request: no two of the same partition key.
      const keys = o.preserveOrder && !aggregate ? new Set<string>() : undefined
      let took = 0
      while (records.length < o.collectionMaxCount) {
        if (took > 0) this.#expireHead(lane, now)
        const next = lane.queue.peek()
        if (next === undefined || keys?.has(next.partitionKey)) break
        // A record too big for an aggregate goes alone, in whatever room the request has.
        let rawBudget = o.collectionMaxSize - bytes
        let aggregateMaxBytes = this.#aggregateMaxBytes
        if (lane.limiter !== undefined) {
          const wanted = this.#wantedTokens(lane, next, aggregate, lane.limiter)
          const allowed = lane.limiter.allowance(wanted, now)
          if (allowed === 0) {
            lane.tokensAt = this.#rateWakeAt(now + lane.limiter.waitFor(wanted, now))
            wakeAt = Math.min(wakeAt, lane.tokensAt)
            break
          }
          rawBudget = Math.min(rawBudget, allowed)
          // At its rate limit (it holds more than its tokens allow), a lane sends what it may as one
          // aggregate: the same bytes in fewer entries, each key once (see the class comment).
          if (lane.queue.bytes > allowed) aggregateMaxBytes = this.#grownAggregateMaxBytes
        }
        const budget = aggregate ? Math.min(aggregateMaxBytes, rawBudget) : rawBudget
        const record = this.#deps.builder.take(lane, budget, aggregate, rawBudget)
        if (record === undefined) break
        lane.limiter?.take(record.bytes, now)
        records.push(record)
        laneOf.push(lane)
        bytes += record.bytes
        took++
        if (o.preserveOrder) {
          if (keys === undefined) break
          keys.add(next.partitionKey)
        }
      }
      if (took === 0) continue
      target ??= lane.target
      lane.inFlight++
      // Its turn is over: to the back of the line.
      lanes.ready.delete(lane)
      if (lane.queue.size > 0) lanes.ready.add(lane)
    }
    return { batch: records.length === 0 ? undefined : { records, lanes: laneOf, bytes }, wakeAt }
  }

  /**
   * Rate tokens a lane short of them waits for before it sends: never less than its head's, and up to
   * all it holds, as much as a quarter second of the shard's rate (without preserveOrder, at least a
   * whole aggregate's). Sending whatever sliver of tokens had refilled made small aggregates, more
   * entries and requests per byte (each with its fixed cost: the SDK's stack, signing, a socket
   * write), and more of them throttled. A lane with tokens to spare does not wait: this only spaces
   * the requests of a shard already at its limit, whose records wait anyway. Measured at 80 ms round
   * trips, 300k × 100 B, 2,000 keys, with the wake grid below (and, without preserveOrder, the 1 MiB
   * aggregates of a lane at its limit): preserveOrder about 300 requests of one entry each before,
   * about 55 after, 7.3 → 5.6 µs of CPU per record; without it, 390 requests → 40–75, 8.1 → 5.3–5.6 µs;
   * the same records/s or more.
   */
  #wantedTokens(lane: ShardLane, head: PendingUserRecord, aggregate: boolean, limiter: ShardRateLimiter): number {
    if (!aggregate) return head.bytes
    const quarterSecond = limiter.bytesPerSecond * TOKEN_WAIT_SECONDS
    const chunk = this.#options.preserveOrder
      ? quarterSecond
      : Math.max(quarterSecond, this.#options.aggregationMaxSize)
    return Math.max(head.bytes, Math.min(lane.queue.bytes, chunk))
  }

  /**
   * When a lane waiting for rate tokens until `at` may go, and is woken: on a grid of
   * `recordMaxBufferedTime` (100 ms by default), so a record at the rate limit waits at most that much
   * longer. Lanes became ready one at a time, each in a request of its own; lanes whose tokens are back
   * within the same step now share one, and a response in between does not send a lane early in a
   * request of its own. The tokens keep coming meanwhile, so the rate is not lower.
   */
  #rateWakeAt(at: number): number {
    const grid = this.#options.recordMaxBufferedTime
    return grid < 1 ? at : Math.ceil(at / grid) * grid
  }

  #due(lane: ShardLane, head: PendingUserRecord, now: number, flushGeneration: number): boolean {
    if (head.attempts !== undefined || head.generation < flushGeneration) return true
    // A timer may fire a little before performance.now() reaches its deadline: 1 ms of slack.
    if (head.arrivedAt + this.#options.recordMaxBufferedTime <= now + 1) return true
    return this.isFull(lane)
  }

  /** Fails the records at the head of `lane` whose recordTtl has passed, in order. */
  #expireHead(lane: ShardLane, now: number): void {
    const expiredBefore = now - this.#options.recordTtl
    const { queue } = lane
    const expired: PendingUserRecord[] = []
    while ((queue.peek()?.arrivedAt ?? Number.POSITIVE_INFINITY) <= expiredBefore) expired.push(queue.shift()!)
    if (expired.length > 0) this.#deps.expire(lane, expired, now)
  }
}

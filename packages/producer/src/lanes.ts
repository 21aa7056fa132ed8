import type { PendingUserRecord } from './pending.js'
import { ShardRateLimiter } from './rate-limiter.js'
import type { StreamTarget } from './stream-target.js'
import { UserQueue } from './user-queue.js'

/**
 * Everything the producer holds for one predicted shard of one stream: its user records in the order
 * they were added (retried ones back at the head), its rate limiter, its requests in flight and its
 * backoff. With preserveOrder a lane has at most one request in flight, and a failed try sends its
 * records back to the head and the whole lane into backoff, so nothing of the shard overtakes them.
 */
export class ShardLane {
  readonly target: StreamTarget
  /** Undefined for records sent without a prediction (no shard map): Kinesis routes them. */
  readonly shardId: string | undefined
  /** Absent without a prediction: we cannot meter a shard we do not know. */
  readonly limiter: ShardRateLimiter | undefined
  readonly queue = new UserQueue()
  /** PutRecords requests holding records of this lane. */
  inFlight = 0
  /** Failed tries in a row; the backoff grows with them. */
  failures = 0
  /** When the last failed try ended. */
  lastFailureAt = Number.NEGATIVE_INFINITY
  /** Not to send before this (the backoff after a failed try). */
  notBefore = Number.NEGATIVE_INFINITY
  /** Not to send before this either: when its rate limiter has the tokens it waits for (see Collector). */
  tokensAt = Number.NEGATIVE_INFINITY
  /** Its shard is no longer open (a split or merge): it takes no new records and goes once idle. */
  retired = false

  constructor(target: StreamTarget, shardId: string | undefined, limiter: ShardRateLimiter | undefined) {
    this.target = target
    this.shardId = shardId
    this.limiter = limiter
  }
}

/** The lanes of every stream, by predicted shard, and which of them hold records (in turn order). */
export class Lanes {
  readonly #rateLimit: number
  readonly #byTarget = new Map<StreamTarget, Map<string | undefined, ShardLane>>()
  /** Lanes holding records, in turn order: the one served last goes to the back. */
  readonly ready = new Set<ShardLane>()

  constructor(rateLimitPercent: number) {
    this.#rateLimit = rateLimitPercent
  }

  laneFor(target: StreamTarget, shardId: string | undefined, now: number): ShardLane {
    let byShard = this.#byTarget.get(target)
    if (byShard === undefined) {
      byShard = new Map()
      this.#byTarget.set(target, byShard)
    }
    let lane = byShard.get(shardId)
    if (lane === undefined) {
      const limiter = shardId === undefined ? undefined : new ShardRateLimiter(this.#rateLimit, now)
      lane = new ShardLane(target, shardId, limiter)
      byShard.set(shardId, lane)
    }
    return lane
  }

  /** Lanes of one stream (none created yet: empty). */
  of(target: StreamTarget): Iterable<ShardLane> {
    return this.#byTarget.get(target)?.values() ?? []
  }

  /** Every lane of every stream. */
  *all(): Iterable<ShardLane> {
    for (const byShard of this.#byTarget.values()) yield* byShard.values()
  }

  push(lane: ShardLane, user: PendingUserRecord): void {
    lane.queue.push(user)
    this.ready.add(lane)
  }

  /** Puts records back at the head of `lane` (a failed try). */
  unshift(lane: ShardLane, users: readonly PendingUserRecord[]): void {
    if (users.length === 0) return
    lane.queue.unshiftAll(users)
    this.ready.add(lane)
  }

  /** Takes every record out of `lane`, oldest first. */
  takeAll(lane: ShardLane): PendingUserRecord[] {
    this.ready.delete(lane)
    return lane.queue.takeAll()
  }

  /** Forgets a lane of a closed shard: its records, limiter and state go with it. */
  remove(lane: ShardLane): void {
    this.ready.delete(lane)
    const byShard = this.#byTarget.get(lane.target)
    if (byShard?.get(lane.shardId) !== lane) return
    byShard.delete(lane.shardId)
    if (byShard.size === 0) this.#byTarget.delete(lane.target)
  }
}

import { type HashKeyParts, type ShardRange, hashKeyFromParts } from '@kinesis-ts/shared'
import type { Lanes, ShardLane } from './lanes.js'
import type { ProducerMetrics } from './metrics.js'
import type { KinesisRecord, PendingUserRecord } from './pending.js'
import { type Settlement, addAttempt } from './settlement.js'
import type { StreamTarget } from './stream-target.js'
import type { Attempt } from './types.js'
import { UserQueue } from './user-queue.js'

interface LandedElsewhere {
  readonly record: KinesisRecord
  readonly shardId: string | undefined
  readonly sequenceNumber: string | undefined
  readonly attempt: Attempt
}

export interface ReshardDeps {
  readonly metrics: ProducerMetrics
  readonly lanes: Lanes
  readonly settlement: Settlement
  /** Routes a user record again, against the stream's current map. */
  readonly route: (user: PendingUserRecord, now: number) => void
  /** Something may go now. */
  readonly drain: () => void
}

/**
 * Reshard handling. A stream's records wait ("held", in order) while it has no shard map yet, while
 * its map is stale (an aggregate landed on another shard than predicted), and while a lane of a
 * shard that closed still has a request in flight. When none of that holds any more, what waited goes
 * out, oldest first: the sub-records of misrouted aggregates that must go again, then the records of
 * closed shards' lanes, then the rest. So a record of a key never overtakes an earlier one that is
 * still being retried or re-routed, across a split or merge too. Lanes of closed shards are removed
 * once idle, with their rate limiters and metric dimensions.
 */
export class Reshard {
  readonly #deps: ReshardDeps
  readonly #held = new Map<StreamTarget, UserQueue>()
  /** Aggregates that landed on another shard than predicted, to be judged against the new map. */
  readonly #landed = new Map<StreamTarget, LandedElsewhere[]>()
  readonly #stale = new Set<StreamTarget>()
  /** Lanes of closed shards with a request still in flight. */
  readonly #retiring = new Map<StreamTarget, Set<ShardLane>>()

  constructor(deps: ReshardDeps) {
    this.#deps = deps
  }

  /** Whether records of `target` must be held rather than routed now. */
  mustWait(target: StreamTarget): boolean {
    return !target.attempted || this.#stale.has(target) || (this.#retiring.get(target)?.size ?? 0) > 0
  }

  hold(user: PendingUserRecord): void {
    this.#heldOf(user.target).push(user)
  }

  /** Arrival of the oldest held user record; +Infinity when none is held. */
  get oldestArrival(): number {
    let oldest = Number.POSITIVE_INFINITY
    for (const held of this.#held.values()) oldest = Math.min(oldest, held.peek()?.arrivedAt ?? oldest)
    for (const landed of this.#landed.values()) {
      for (const { record } of landed) oldest = Math.min(oldest, record.oldestArrival)
    }
    return oldest
  }

  /**
   * A ListShards round ended. With a new map, the lanes of shards it no longer has retire: their
   * records are held, to be routed on the new map once their requests in flight are back.
   */
  onShardMap(target: StreamTarget, changed: boolean, now: number): void {
    this.#stale.delete(target)
    if (changed) {
      const { lanes } = this.#deps
      for (const lane of [...lanes.of(target)]) {
        if (lane.shardId !== undefined && target.map?.rangeOf(lane.shardId) !== undefined) continue
        lane.retired = true
        this.#holdFirst(target, lanes.takeAll(lane))
        if (lane.inFlight > 0) this.#retiringOf(target).add(lane)
        else this.#remove(lane)
      }
    }
    this.#release(target, now)
  }

  /**
   * An aggregate landed on another shard than predicted: the map is stale (a split or merge). Until
   * a new map arrives, the lane's queued records and the stream's new ones are held, so that records
   * of a key keep their order; then each sub-record is judged against the new map (see #judge).
   */
  landedElsewhere(
    record: KinesisRecord,
    lane: ShardLane,
    shardId: string | undefined,
    sequenceNumber: string | undefined,
    attempt: Attempt,
  ): void {
    const { target } = record
    this.#deps.metrics.error('WrongShard', target.label, record.predictedShardId)
    this.#stale.add(target)
    const landed = this.#landed.get(target) ?? []
    landed.push({ record, shardId, sequenceNumber, attempt })
    this.#landed.set(target, landed)
    this.#holdFirst(target, this.#deps.lanes.takeAll(lane))
    target.requestRefresh()
  }

  /** After every response: a retired lane whose requests are all back hands its records over and goes. */
  afterResponse(lane: ShardLane, now: number): void {
    if (!lane.retired || lane.inFlight > 0) return
    const { target } = lane
    this.#holdFirst(target, this.#deps.lanes.takeAll(lane))
    this.#remove(lane)
    this.#retiring.get(target)?.delete(lane)
    this.#release(target, now)
  }

  /** Everything held or waiting to be judged, emptying the step (destroy). */
  *drainAll(): Iterable<PendingUserRecord> {
    for (const landed of this.#landed.values()) for (const { record } of landed) yield* record.users
    this.#landed.clear()
    for (const held of this.#held.values()) yield* held.takeAll()
    this.#held.clear()
  }

  /** Routes what waited for `target`, when nothing holds it back any more. */
  #release(target: StreamTarget, now: number): void {
    if (this.mustWait(target)) return
    this.#retiring.delete(target)
    const landed = this.#landed.get(target) ?? []
    this.#landed.delete(target)
    const held = this.#held.get(target)?.takeAll() ?? []
    this.#held.delete(target)
    for (const entry of landed) this.#judge(entry, now)
    for (const user of held) this.#deps.route(user, now)
    this.#deps.drain()
  }

  /**
   * Sub-records inside the shard the aggregate landed on are delivered (the consumer keeps them):
   * they succeeded. The others are dropped by consumers, as by the Java KCL: they go again.
   */
  #judge({ record, shardId, sequenceNumber, attempt }: LandedElsewhere, now: number): void {
    const range = shardId === undefined ? undefined : record.target.map?.rangeOf(shardId)
    const { users } = record
    const firstTry: readonly Attempt[] = Object.freeze([attempt])
    for (let i = 0; i < users.length; i++) {
      const user = users[i]!
      if (range !== undefined && inRange(user.hashKey, range)) {
        this.#deps.settlement.resolveUser(user, attempt, firstTry, shardId, sequenceNumber, i)
        continue
      }
      addAttempt(user, {
        ...attempt,
        successful: false,
        errorCode: 'WrongShard',
        errorMessage: `aggregate predicted for ${record.predictedShardId} landed on ${shardId}, outside this record's range`,
      })
      this.#deps.route(user, now)
    }
  }

  /** Holds records older than everything held so far for `target` (a lane's, taken out). */
  #holdFirst(target: StreamTarget, users: readonly PendingUserRecord[]): void {
    if (users.length > 0) this.#heldOf(target).unshiftAll(users)
  }

  #remove(lane: ShardLane): void {
    this.#deps.lanes.remove(lane)
    if (lane.shardId !== undefined) this.#deps.metrics.forgetShard(lane.target.label, lane.shardId)
  }

  #heldOf(target: StreamTarget): UserQueue {
    let held = this.#held.get(target)
    if (held === undefined) {
      held = new UserQueue()
      this.#held.set(target, held)
    }
    return held
  }

  #retiringOf(target: StreamTarget): Set<ShardLane> {
    let retiring = this.#retiring.get(target)
    if (retiring === undefined) {
      retiring = new Set()
      this.#retiring.set(target, retiring)
    }
    return retiring
  }
}

/** Whether `hashKey` falls in `range` (off the per-record path: an aggregate that landed elsewhere). */
function inRange(hashKey: HashKeyParts, range: ShardRange): boolean {
  const value = hashKeyFromParts(hashKey)
  return value >= range.startingHashKey && value <= range.endingHashKey
}

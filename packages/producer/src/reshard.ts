import type { Aggregation } from './aggregation.js'
import type { Collector } from './collector.js'
import type { ProducerMetrics } from './metrics.js'
import type { KinesisRecord, PendingUserRecord } from './pending.js'
import { type Settlement, addAttempt } from './settlement.js'
import type { StreamTarget } from './stream-target.js'
import type { Attempt } from './types.js'

interface LandedElsewhere {
  readonly record: KinesisRecord
  readonly shardId: string | undefined
  readonly sequenceNumber: string | undefined
  readonly attempt: Attempt
}

export interface ReshardDeps {
  readonly metrics: ProducerMetrics
  readonly aggregation: Aggregation
  readonly collector: Collector
  readonly settlement: Settlement
  /** Routes a user record again, against the stream's current map. */
  readonly route: (user: PendingUserRecord, now: number) => void
  /** Something may go now. */
  readonly drain: () => void
}

/**
 * Reshard handling: records wait while a stream has no shard map yet or a stale one (an aggregate
 * landed on another shard than predicted: a split or merge since the last map), and are routed again,
 * oldest first, when a new map arrives.
 */
export class Reshard {
  readonly #deps: ReshardDeps
  /**
   * Records held until a stream's shard map (re)loads: before its first map (a few ms, once per
   * stream), and after an aggregate landed on another shard than predicted (a split or merge).
   */
  readonly #awaitingMap = new Map<StreamTarget, PendingUserRecord[]>()
  /** Aggregates that landed on another shard than predicted, to be judged against the new map. */
  readonly #landedElsewhere = new Map<StreamTarget, LandedElsewhere[]>()
  readonly #stale = new Set<StreamTarget>()

  constructor(deps: ReshardDeps) {
    this.#deps = deps
  }

  /** Whether records of `target` must wait for a map: none yet, or the one we have is stale. */
  mustWait(target: StreamTarget): boolean {
    return !target.attempted || this.#stale.has(target)
  }

  hold(user: PendingUserRecord): void {
    const waiting = this.#awaitingMap.get(user.target)
    if (waiting === undefined) this.#awaitingMap.set(user.target, [user])
    else waiting.push(user)
  }

  /** Arrival of the oldest held user record; +Infinity when none is held. */
  get oldestArrival(): number {
    let oldest = Number.POSITIVE_INFINITY
    for (const users of this.#awaitingMap.values()) oldest = Math.min(oldest, users[0]?.arrivedAt ?? oldest)
    return oldest
  }

  /**
   * A ListShards round ended. With a new map, aggregates predicted on the old one go out now and new
   * records use the new map; then whatever waited for it is judged and routed, oldest first.
   */
  onShardMap(target: StreamTarget, changed: boolean, now: number): void {
    const { aggregation, route } = this.#deps
    if (changed) {
      aggregation.sealAll(now, target)
      aggregation.forget(target)
    }
    this.#stale.delete(target)
    const landed = this.#landedElsewhere.get(target) ?? []
    this.#landedElsewhere.delete(target)
    const waiting = this.#awaitingMap.get(target) ?? []
    this.#awaitingMap.delete(target)
    for (const entry of landed) this.#judgeLanded(entry, now)
    for (const user of waiting) route(user, now)
    this.#deps.drain()
  }

  /**
   * An aggregate landed on another shard than predicted: the map is stale (a split or merge). Until
   * a new map arrives, this shard's queued and new records wait, so that records of a key keep their
   * order; then each sub-record is judged against the new map (see #judgeLanded).
   */
  landedOnOtherShard(
    record: KinesisRecord,
    shardId: string | undefined,
    sequenceNumber: string | undefined,
    attempt: Attempt,
    now: number,
  ): void {
    const { target } = record
    this.#deps.metrics.error('WrongShard', target.label, record.predictedShardId)
    this.#stale.add(target)
    const landed = this.#landedElsewhere.get(target)
    const entry = { record, shardId, sequenceNumber, attempt }
    if (landed === undefined) this.#landedElsewhere.set(target, [entry])
    else landed.push(entry)
    const predicted = record.predictedShardId!
    for (const user of this.#deps.aggregation.takeOpen(target, predicted, now)) this.hold(user)
    for (const queued of this.#deps.collector.drainQueue(target.key, predicted)) {
      for (const user of queued.users) this.hold(user)
    }
    target.requestRefresh()
  }

  /** Everything held or waiting to be judged, emptying the step (destroy). */
  *drainAll(): Iterable<PendingUserRecord | KinesisRecord> {
    for (const users of this.#awaitingMap.values()) yield* users
    this.#awaitingMap.clear()
    for (const landed of this.#landedElsewhere.values()) for (const { record } of landed) yield record
    this.#landedElsewhere.clear()
  }

  /**
   * Sub-records inside the shard the aggregate landed on are delivered (the consumer keeps them):
   * they succeeded. The others are dropped by consumers, as by the Java KCL: they go again.
   */
  #judgeLanded({ record, shardId, sequenceNumber, attempt }: LandedElsewhere, now: number): void {
    const range = shardId === undefined ? undefined : record.target.map?.rangeOf(shardId)
    const { users } = record
    const firstTry: readonly Attempt[] = Object.freeze([attempt])
    for (let i = 0; i < users.length; i++) {
      const user = users[i]!
      if (range !== undefined && user.hashKey >= range.startingHashKey && user.hashKey <= range.endingHashKey) {
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
}

import { ShardAggregator } from './aggregator.js'
import { type KinesisRecord, type PendingUserRecord, rawKinesisRecord } from './pending.js'
import type { StreamTarget } from './stream-target.js'

export interface AggregationLimits {
  readonly aggregationMaxSize: number
  readonly aggregationMaxCount: number
  readonly recordMaxBufferedTime: number
}

export interface AggregationOutput {
  /** A sealed aggregate, or a record that goes alone, ready to be collected. */
  enqueue(record: KinesisRecord, now: number): void
  /** Asks to be woken (sealDue) at `at`. */
  wakeAt(at: number, now: number): void
}

/**
 * The aggregation step: one open aggregate per stream and predicted shard, sealed when full or when
 * its first record has waited recordMaxBufferedTime.
 */
export class Aggregation {
  readonly #limits: AggregationLimits
  readonly #out: AggregationOutput
  /** Per stream, per predicted shard. */
  readonly #aggregators = new Map<StreamTarget, Map<string, ShardAggregator>>()
  /** Aggregators holding records, in the order they opened (so the first is the most urgent). */
  readonly #open = new Set<ShardAggregator>()

  constructor(limits: AggregationLimits, out: AggregationOutput) {
    this.#limits = limits
    this.#out = out
  }

  /** Arrival of the oldest record in an open aggregate; +Infinity when none is open. */
  get oldestArrival(): number {
    for (const aggregator of this.#open) return aggregator.openedAt
    return Number.POSITIVE_INFINITY
  }

  /** Into the aggregate of `shardId`; a record too big to share one goes alone, as the KPL does. */
  add(user: PendingUserRecord, shardId: string, now: number): void {
    const { target } = user
    const aggregator = this.#aggregatorFor(target, shardId)
    const { aggregationMaxSize: maxSize, aggregationMaxCount: maxCount } = this.#limits
    if (!aggregator.tryAdd(user, maxSize, maxCount)) {
      if (aggregator.count === 0) {
        this.#out.enqueue(rawKinesisRecord(user, shardId, target.version, now), now)
        return
      }
      this.#seal(aggregator, now)
      if (!aggregator.tryAdd(user, maxSize, maxCount)) {
        this.#out.enqueue(rawKinesisRecord(user, shardId, target.version, now), now)
        return
      }
    }
    if (aggregator.count === 1) {
      this.#open.add(aggregator)
      this.#out.wakeAt(aggregator.openedAt + this.#limits.recordMaxBufferedTime, now)
    }
    if (aggregator.count >= maxCount) this.#seal(aggregator, now)
  }

  /** Seals the aggregates whose first record has waited recordMaxBufferedTime; asks to wake for the next. */
  sealDue(now: number): void {
    const due = now - this.#limits.recordMaxBufferedTime + 1
    for (const aggregator of this.#open) {
      if (aggregator.openedAt > due) {
        this.#out.wakeAt(aggregator.openedAt + this.#limits.recordMaxBufferedTime, now)
        break
      }
      this.#seal(aggregator, now)
    }
  }

  /** Seals every open aggregate (of one stream, or all). */
  sealAll(now: number, target: StreamTarget | undefined): void {
    for (const aggregator of this.#open) {
      if (target === undefined || aggregator.target === target) this.#seal(aggregator, now)
    }
  }

  /** Takes the user records out of the open aggregate of one shard, unsent. */
  takeOpen(target: StreamTarget, shardId: string, now: number): PendingUserRecord[] {
    const aggregator = this.#aggregators.get(target)?.get(shardId)
    if (aggregator === undefined || !this.#open.delete(aggregator)) return []
    return aggregator.seal(now)?.users ?? []
  }

  /** A new shard map: aggregates of the old one must be sealed first (sealAll). */
  forget(target: StreamTarget): void {
    this.#aggregators.delete(target)
  }

  /** Every open aggregate, sealed, emptying the step (destroy). */
  *drainAll(now: number): Iterable<KinesisRecord> {
    for (const aggregator of this.#open) {
      const record = aggregator.seal(now)
      if (record !== undefined) yield record
    }
    this.#open.clear()
  }

  #aggregatorFor(target: StreamTarget, shardId: string): ShardAggregator {
    let byShard = this.#aggregators.get(target)
    if (byShard === undefined) {
      byShard = new Map()
      this.#aggregators.set(target, byShard)
    }
    let aggregator = byShard.get(shardId)
    if (aggregator === undefined) {
      aggregator = new ShardAggregator(target, shardId, target.version)
      byShard.set(shardId, aggregator)
    }
    return aggregator
  }

  #seal(aggregator: ShardAggregator, now: number): void {
    this.#open.delete(aggregator)
    const record = aggregator.seal(now)
    if (record !== undefined) this.#out.enqueue(record, now)
  }
}

import { AggregateBuilder, formatHashKey } from '@kinesis-ts/shared'
import type { ShardLane } from './lanes.js'
import type { KinesisRecord, PendingUserRecord } from './pending.js'

/** The outer partition key of every aggregate of two or more records (as the Java KPL writes it). */
export const AGGREGATE_PARTITION_KEY = 'a'

/**
 * The aggregation step: turns the user records at the head of a lane into one Kinesis record, a KPL
 * aggregate filled to the byte (or to `aggregationMaxCount`). Records are encoded when they leave,
 * not when they arrive, so a retried or re-routed record joins whatever is waiting with it.
 */
export class EntryBuilder {
  readonly #builder = new AggregateBuilder()
  readonly #maxCount: number

  constructor(aggregationMaxCount: number) {
    this.#maxCount = aggregationMaxCount
  }

  /**
   * Takes records from the head of `lane` into one Kinesis record: an aggregate of as many as fit in
   * `maxBytes` (data + partition key), or the head alone, as it is, when no two fit or `aggregate` is
   * false; a head too big to share an aggregate goes alone if it fits in `maxRawBytes` (as the KPL
   * sends it). Undefined when not even the head fits.
   */
  take(lane: ShardLane, maxBytes: number, aggregate: boolean, maxRawBytes = maxBytes): KinesisRecord | undefined {
    const { queue } = lane
    const head = queue.peek()
    if (head === undefined) return undefined
    const builder = this.#builder
    let count = 0
    let oldest = Number.POSITIVE_INFINITY
    if (aggregate && lane.shardId !== undefined) {
      const dataBudget = maxBytes - AGGREGATE_PARTITION_KEY.length
      for (let user: PendingUserRecord | undefined = head; user !== undefined; user = queue.peek(count)) {
        if (!builder.tryAdd(user, dataBudget, this.#maxCount)) break
        oldest = Math.min(oldest, user.arrivedAt)
        count++
      }
    }
    if (count < 2) {
      // An aggregate of one goes out as the plain user record, as the KPL does: it is smaller.
      builder.reset()
      // Unless it has headers: they travel only as an aggregate's tags (an aggregate of one is valid).
      if (head.tags !== undefined) return this.#alone(lane, head, Math.max(maxBytes, maxRawBytes))
      if (head.bytes > Math.max(maxBytes, maxRawBytes)) return undefined
      queue.shift()
      return single(lane, head)
    }
    const data = builder.build()
    builder.reset()
    const users = new Array<PendingUserRecord>(count)
    for (let i = 0; i < count; i++) users[i] = queue.shift()!
    return aggregated(lane, users, data, oldest)
  }

  /** The head (a record with headers) in an aggregate of its own; undefined when it does not fit. */
  #alone(lane: ShardLane, head: PendingUserRecord, maxBytes: number): KinesisRecord | undefined {
    const builder = this.#builder
    const fits = builder.tryAdd(head, maxBytes - AGGREGATE_PARTITION_KEY.length)
    const data = fits ? builder.build() : undefined
    builder.reset()
    if (data === undefined) return undefined
    lane.queue.shift()
    return aggregated(lane, [head], data, head.arrivedAt)
  }
}

/** User records sent as one KPL aggregate, routed by its first record's hash key. */
function aggregated(lane: ShardLane, users: PendingUserRecord[], data: Buffer, oldest: number): KinesisRecord {
  const head = users[0]!
  return {
    target: lane.target,
    predictedShardId: lane.shardId,
    users,
    data,
    partitionKey: AGGREGATE_PARTITION_KEY,
    // Kinesis routes the aggregate by this key: the first record's, so it lands on the predicted shard.
    explicitHashKey: formatHashKey(head.hashKey),
    bytes: data.length + AGGREGATE_PARTITION_KEY.length,
    oldestArrival: oldest,
    tries: head.attempts?.length ?? 0,
    lastEventAt: Math.max(head.arrivedAt, lane.lastFailureAt),
  }
}

/** One user record sent as it is. */
function single(lane: ShardLane, user: PendingUserRecord): KinesisRecord {
  return {
    target: lane.target,
    predictedShardId: lane.shardId,
    users: [user],
    data: user.data,
    partitionKey: user.partitionKey,
    explicitHashKey: user.explicitHashKey,
    bytes: user.bytes,
    oldestArrival: user.arrivedAt,
    tries: user.attempts?.length ?? 0,
    lastEventAt: Math.max(user.arrivedAt, lane.lastFailureAt),
  }
}

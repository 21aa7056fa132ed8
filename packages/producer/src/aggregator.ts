import { AggregateBuilder, formatHashKey } from '@kinesis-ts/shared'
import type { KinesisRecord, PendingUserRecord } from './pending.js'
import { rawKinesisRecord } from './pending.js'
import type { StreamTarget } from './stream-target.js'

/** The outer partition key of every aggregate of two or more records (as the Java KPL writes it). */
export const AGGREGATE_PARTITION_KEY = 'a'

/**
 * Fills one KPL aggregate for one predicted shard, to the byte (`aggregationMaxSize`) or the count
 * (`aggregationMaxCount`). An aggregate of one goes out as the plain user record.
 */
export class ShardAggregator {
  readonly target: StreamTarget
  readonly shardId: string
  readonly mapVersion: number
  /** Arrival of its first record, while it holds any: the buffering deadline counts from here. */
  openedAt = 0
  readonly #builder = new AggregateBuilder()
  #users: PendingUserRecord[] = []

  constructor(target: StreamTarget, shardId: string, mapVersion: number) {
    this.target = target
    this.shardId = shardId
    this.mapVersion = mapVersion
  }

  get count(): number {
    return this.#users.length
  }

  /** Adds the record if the aggregate stays within the limits; false when it is full for this record. */
  tryAdd(user: PendingUserRecord, maxBytes: number, maxCount: number): boolean {
    if (!this.#builder.tryAdd(user, maxBytes, maxCount)) return false
    if (this.#users.length === 0) this.openedAt = user.arrivedAt
    this.#users.push(user)
    return true
  }

  /** Takes what it holds as one Kinesis record and starts empty again. */
  seal(now: number): KinesisRecord | undefined {
    const users = this.#users
    if (users.length === 0) return undefined
    this.#users = []
    if (users.length === 1) {
      this.#builder.reset()
      return rawKinesisRecord(users[0]!, this.shardId, this.mapVersion, now)
    }
    const data = this.#builder.build()
    this.#builder.reset()
    return {
      target: this.target,
      predictedShardId: this.shardId,
      mapVersion: this.mapVersion,
      users,
      data,
      partitionKey: AGGREGATE_PARTITION_KEY,
      // Kinesis routes the aggregate by this key: the first record's, so it lands on the predicted shard.
      explicitHashKey: formatHashKey(users[0]!.hashKey),
      bytes: data.length + AGGREGATE_PARTITION_KEY.length,
      oldestArrival: this.openedAt,
      tries: 0,
      lastEventAt: this.openedAt,
      notBefore: now,
    }
  }
}

import type { StreamTarget } from './stream-target.js'
import type { Attempt, UserRecord, UserRecordResult } from './types.js'

/** A user record the producer holds until it settles. */
export interface PendingUserRecord {
  readonly source: UserRecord
  readonly partitionKey: string
  /** As sent to Kinesis (normalized decimal), when the caller gave one. */
  readonly explicitHashKey: string | undefined
  readonly hashKey: bigint
  readonly data: Uint8Array
  /** data + partition key, as counted against maxBufferedBytes. */
  readonly bytes: number
  readonly target: StreamTarget
  readonly arrivedAt: number
  /** The flush generation it was added in (see FlushTracker). */
  readonly generation: number
  attempts: Attempt[] | undefined
  settled: boolean
  resolve(result: UserRecordResult): void
  reject(error: unknown): void
}

/** One entry of a PutRecords request: an aggregate of user records, or one user record as it is. */
export interface KinesisRecord {
  readonly target: StreamTarget
  /** The shard the records were predicted for; undefined when sent without a prediction. */
  readonly predictedShardId: string | undefined
  /** Shard map version the prediction came from. */
  readonly mapVersion: number
  readonly users: PendingUserRecord[]
  readonly data: Uint8Array
  readonly partitionKey: string
  readonly explicitHashKey: string | undefined
  /** data + partition key bytes, as PutRecords counts them. */
  readonly bytes: number
  /** Earliest arrival among its user records: its TTL and buffering time count from here. */
  readonly oldestArrival: number
  /** Tries so far. */
  tries: number
  /** When the last try ended (or the record was sealed), for the next attempt's delayMs. */
  lastEventAt: number
  /** Not to be sent before this time (retry backoff). */
  notBefore: number
}

export function rawKinesisRecord(
  user: PendingUserRecord,
  predictedShardId: string | undefined,
  mapVersion: number,
  now: number,
): KinesisRecord {
  return {
    target: user.target,
    predictedShardId,
    mapVersion,
    users: [user],
    data: user.data,
    partitionKey: user.partitionKey,
    explicitHashKey: user.explicitHashKey,
    bytes: user.bytes,
    oldestArrival: user.arrivedAt,
    tries: 0,
    lastEventAt: user.arrivedAt,
    notBefore: now,
  }
}

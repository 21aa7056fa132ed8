import type { HashKeyParts, PartitionKeyEntry } from '@kinesis-ts/shared'
import type { StreamTarget } from './stream-target.js'
import type { Attempt, UserRecordResult } from './types.js'

/** A user record the producer holds until it settles. */
export interface PendingUserRecord {
  /**
   * The caller's headers object, when it gave headers (for UserRecordFailedError.record). Not the
   * caller's record itself: that would keep its data alive beside the copy in `data`.
   */
  readonly headers: Readonly<Record<string, string>> | undefined
  readonly partitionKey: string
  /** As sent to Kinesis (normalized decimal), when the caller gave one. */
  readonly explicitHashKey: string | undefined
  /** Its hash key in number parts (no BigInt on the per-record path): routing compares numbers. */
  readonly hashKey: HashKeyParts
  /**
   * The hash-key cache entry of its partition key: it remembers the key's shard on the current map,
   * and the aggregate builder uses it as the key's table slot (no lookup of its own). Undefined with
   * an explicit hash key.
   */
  readonly partitionKeySlot: PartitionKeyEntry | undefined
  /** The producer's own copy of the caller's bytes (may be a new view on each read: read it once). */
  readonly data: Uint8Array
  /** data.length, without making a view. */
  readonly dataLength: number
  /** Copies its data into `out` at `offset` (no view made); returns the offset after it. */
  writeDataTo(out: Uint8Array, offset: number): number
  /** data + partition key (+ encoded headers), as counted against maxBufferedBytes. */
  readonly bytes: number
  /** Its headers as KPL tags (undefined: none): such a record only ever goes inside an aggregate. */
  readonly tags: Uint8Array | undefined
  readonly target: StreamTarget
  /**
   * When it was admitted (added, or let in after waiting for room): its buffering time and its
   * recordTtl count from here.
   */
  arrivedAt: number
  /** The flush generation it was added in (see FlushTracker). */
  readonly generation: number
  /** Its failed tries so far (undefined before the first failure). */
  attempts: Attempt[] | undefined
  settled: boolean
  /** Its promise's resolve function; it fails by being resolved with a Rejection (see settlement.ts). */
  resolve(result: UserRecordResult | PromiseLike<UserRecordResult>): void
}

/** One entry of a PutRecords request: an aggregate of user records, or one user record as it is. */
export interface KinesisRecord {
  readonly target: StreamTarget
  /** The shard the records were predicted for; undefined when sent without a prediction. */
  readonly predictedShardId: string | undefined
  /** In the order they were added (for an aggregate: sub-record order). */
  readonly users: PendingUserRecord[]
  readonly data: Uint8Array
  readonly partitionKey: string
  readonly explicitHashKey: string | undefined
  /** data + partition key bytes, as PutRecords counts them. */
  readonly bytes: number
  /** Earliest arrival among its user records. */
  readonly oldestArrival: number
  /** Failed tries of its first user record before this one. */
  readonly tries: number
  /** When its first user record arrived or last failed, for the next attempt's delayMs. */
  readonly lastEventAt: number
}

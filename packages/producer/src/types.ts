/** A record as the caller gives it to `addUserRecord`. */
export interface UserRecord {
  readonly partitionKey: string
  /** Bytes, or a string sent as its UTF-8 bytes. */
  readonly data: Uint8Array | string
  /** A decimal hash key in 0..2^128-1 that routes the record instead of the partition key's MD5. */
  readonly explicitHashKey?: string | undefined
  /** Another stream than the producer's default. */
  readonly streamName?: string | undefined
  readonly streamARN?: string | undefined
  /**
   * Headers, sent as the record's KPL tags: the record always goes inside an aggregate (even alone),
   * so it needs `aggregationEnabled`. Their bytes count in `maxUserRecordSize`.
   */
  readonly headers?: Readonly<Record<string, string>> | undefined
}

/**
 * A failed user record as the producer held it (UserRecordFailedError.record), not the object given to
 * addUserRecord: the producer keeps no reference to that object, so the caller's data (a Buffer, a
 * string) can be collected as soon as it was copied, instead of living until the record settles.
 */
export interface FailedUserRecord {
  readonly partitionKey: string
  /** As sent to Kinesis: normalized decimal (no leading zeros). */
  readonly explicitHashKey?: string | undefined
  /** A copy of the bytes the producer sent (a string was sent as its UTF-8 bytes). */
  readonly data: Uint8Array
  /** The caller's own headers object, when the record had headers. */
  readonly headers?: Readonly<Record<string, string>> | undefined
}

/** One try at putting a user record, as the KPL reports it. */
export interface Attempt {
  /** Time waited (backoff, rate limit, buffering) before this try, in ms. */
  readonly delayMs: number
  /** How long the try took, in ms. */
  readonly durationMs: number
  readonly successful: boolean
  /** The error code of a failed try: a Kinesis error name, 'Expired', 'Destroyed', 'WrongShard', ... */
  readonly errorCode?: string
  readonly errorMessage?: string
}

export interface UserRecordResult {
  readonly successful: boolean
  readonly shardId: string | undefined
  readonly sequenceNumber: string | undefined
  /** Index of the user record inside its aggregate; 0 for a record sent on its own. */
  readonly subSequenceNumber: number
  readonly attempts: readonly Attempt[]
}

import type { HashKeyCache } from '@kinesis-ts/shared'
import type { PendingUserRecord } from './pending.js'
import type { StreamTarget } from './stream-target.js'
import type { UserRecord, UserRecordResult } from './types.js'
import type { CheckedRecord } from './validate.js'

/** One call of addUserRecord, admitted or waiting for room (see Admission). */
export interface AddCall extends CheckedRecord {
  readonly source: UserRecord
  readonly target: StreamTarget
  readonly generation: number
  readonly resolve: (result: UserRecordResult) => void
  readonly reject: (error: unknown) => void
}

/** An admitted call becomes the record the producer holds until it settles. */
export function pendingUserRecord(call: AddCall, hashKeys: HashKeyCache, now: number): PendingUserRecord {
  return {
    source: call.source,
    partitionKey: call.partitionKey,
    explicitHashKey: call.explicitHashKey,
    hashKey: call.explicitHashKeyValue ?? hashKeys.get(call.partitionKey),
    data: call.data,
    bytes: call.bytes,
    tags: call.tags,
    target: call.target,
    arrivedAt: now,
    generation: call.generation,
    attempts: undefined,
    settled: false,
    resolve: call.resolve,
    reject: call.reject,
  }
}

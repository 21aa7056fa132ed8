import { type HashKeyCache, hashKeyParts } from '@kinesis-ts/shared'
import type { PendingUserRecord } from './pending.js'
import type { StreamTarget } from './stream-target.js'
import type { UserRecord, UserRecordResult } from './types.js'
import type { CheckedRecord } from './validate.js'

/**
 * Makes the promise addUserRecord returns and keeps its resolve function, without a closure per
 * call: `capture` is one function for the producer's lifetime, so a record costs the Promise and its
 * resolving functions, not also an executor closure and its context. Only `resolve` is kept (a
 * failure resolves with a rejected promise, see settlement.ts): a record waits about a second in a
 * busy producer, so whatever it holds survives young-generation collections and is copied by each
 * of them; the reject function not held dies young.
 */
export class PromiseSettlers {
  resolve: (result: UserRecordResult | PromiseLike<UserRecordResult>) => void = noop
  readonly #capture = (resolve: (result: UserRecordResult | PromiseLike<UserRecordResult>) => void): void => {
    this.resolve = resolve
  }

  /** A new promise; its resolve function is in `resolve` until the next call. */
  next(): Promise<UserRecordResult> {
    return new Promise(this.#capture)
  }
}

function noop(): void {}

/**
 * A call of addUserRecord becomes the record the producer holds until it settles, right away: the same
 * object waits for room (see Admission) and goes through the pipeline, so there is one per record.
 * `arrivedAt` is `now`, and is set again when a waiting record is admitted.
 */
export function pendingUserRecord(
  checked: CheckedRecord,
  source: UserRecord,
  target: StreamTarget,
  generation: number,
  hashKeys: HashKeyCache,
  settlers: PromiseSettlers,
  now: number,
): PendingUserRecord {
  // One cache entry per key holds its hash in parts and serves as its aggregate key slot.
  const entry = checked.explicitHashKeyValue === undefined ? hashKeys.entry(checked.partitionKey) : undefined
  return {
    source,
    partitionKey: checked.partitionKey,
    explicitHashKey: checked.explicitHashKey,
    hashKey: entry ?? hashKeyParts(checked.explicitHashKeyValue!),
    partitionKeySlot: entry,
    data: checked.data,
    bytes: checked.bytes,
    tags: checked.tags,
    target,
    arrivedAt: now,
    generation,
    attempts: undefined,
    settled: false,
    resolve: settlers.resolve,
  }
}

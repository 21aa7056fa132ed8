import { UserRecordFailedError } from './errors.js'
import { PRODUCER_METRICS as M, type ProducerMetrics } from './metrics.js'
import type { KinesisRecord, PendingUserRecord } from './pending.js'
import type { StreamTarget } from './stream-target.js'
import type { Attempt, FailedUserRecord } from './types.js'

/** The last attempt of every record destroy() fails. */
export const DESTROYED: Attempt = Object.freeze({
  delayMs: 0,
  durationMs: 0,
  successful: false,
  errorCode: 'Destroyed',
  errorMessage: 'the producer was destroyed',
})

export function addAttempt(user: PendingUserRecord, attempt: Attempt): void {
  if (user.attempts === undefined) user.attempts = [attempt]
  else user.attempts.push(attempt)
}

/**
 * The last step of a user record: its promise resolves (with where it landed and every attempt) or
 * rejects with UserRecordFailedError, exactly once. `onSettled` gives its room back (admission, flush).
 */
export class Settlement {
  readonly #metrics: ProducerMetrics
  readonly #recordTtl: number
  readonly #onSettled: (user: PendingUserRecord) => void

  constructor(metrics: ProducerMetrics, recordTtl: number, onSettled: (user: PendingUserRecord) => void) {
    this.#metrics = metrics
    this.#recordTtl = recordTtl
    this.#onSettled = onSettled
  }

  /** A Kinesis record is stored where its user records belong: each resolves, and the put metrics count it. */
  delivered(
    record: KinesisRecord,
    shardId: string | undefined,
    sequenceNumber: string | undefined,
    attempt: Attempt,
  ): void {
    const { target, users } = record
    // Users that succeed on their first try share one frozen attempts list: one array per aggregate,
    // not one per user record.
    const firstTry: readonly Attempt[] = Object.freeze([attempt])
    let dataBytes = 0
    for (let i = 0; i < users.length; i++) {
      dataBytes += users[i]!.dataLength
      this.resolveUser(users[i]!, attempt, firstTry, shardId, sequenceNumber, users.length > 1 ? i : 0)
    }
    const label = target.label
    this.#metrics.shard(M.KinesisRecordsPut, 1, 'Count', label, shardId)
    this.#metrics.shard(M.KinesisRecordsDataPut, record.data.length, 'Bytes', label, shardId)
    this.#metrics.shard(M.UserRecordsPut, users.length, 'Count', label, shardId)
    this.#metrics.shard(M.UserRecordsDataPut, dataBytes, 'Bytes', label, shardId)
    this.#metrics.shard(M.UserRecordsPerKinesisRecord, users.length, 'Count', label, shardId)
    this.#metrics.shard(M.RetriesPerRecord, record.tries, 'Count', label, shardId)
  }

  resolveUser(
    user: PendingUserRecord,
    attempt: Attempt,
    firstTry: readonly Attempt[],
    shardId: string | undefined,
    sequenceNumber: string | undefined,
    subSequenceNumber: number,
  ): void {
    if (user.settled) return
    const attempts = user.attempts === undefined ? firstTry : [...user.attempts, attempt]
    this.#settle(user)
    user.resolve({ successful: true, shardId, sequenceNumber, subSequenceNumber, attempts })
  }

  /** Fails each user record, in order; with `last`, that is added as its last attempt first. */
  failUsers(users: Iterable<PendingUserRecord>, last: Attempt | undefined): void {
    for (const user of users) this.failUser(user, last)
  }

  /** recordTtl passed before the records could be put: they fail with Expired, in order. */
  expire(
    target: StreamTarget,
    shardId: string | undefined,
    users: readonly PendingUserRecord[],
    lastEventAt: number,
    now: number,
  ): void {
    this.#metrics.shard(M.UserRecordExpired, users.length, 'Count', target.label, shardId)
    this.failUsers(users, {
      delayMs: Math.max(0, now - lastEventAt),
      durationMs: 0,
      successful: false,
      errorCode: 'Expired',
      errorMessage: `recordTtl (${this.#recordTtl} ms) passed before it could be put`,
    })
  }

  failUser(user: PendingUserRecord, last: Attempt | undefined): void {
    if (user.settled) return
    const attempts = user.attempts === undefined ? [] : [...user.attempts]
    if (last !== undefined) attempts.push(last)
    this.#settle(user)
    const error = new UserRecordFailedError(
      { successful: false, shardId: undefined, sequenceNumber: undefined, subSequenceNumber: 0, attempts },
      failedRecord(user),
    )
    // The record keeps only its promise's resolve function (see PromiseSettlers): resolved with a
    // Rejection, the promise rejects with its error.
    user.resolve(new Rejection(error))
  }

  #settle(user: PendingUserRecord): void {
    user.settled = true
    this.#onSettled(user)
  }
}

/**
 * The failed record as the producer held it. Its data is copied out of the shared slab: an error the
 * caller keeps would otherwise keep the whole 32 KiB slab (see DataSlabs); failures are rare enough.
 */
function failedRecord(user: PendingUserRecord): FailedUserRecord {
  return {
    partitionKey: user.partitionKey,
    ...(user.explicitHashKey === undefined ? {} : { explicitHashKey: user.explicitHashKey }),
    data: Uint8Array.from(user.data),
    ...(user.headers === undefined ? {} : { headers: user.headers }),
  }
}

/**
 * A thenable that rejects with `error`: resolving a promise with it rejects that promise (one
 * microtask later), with no promise of its own that could be reported as an unhandled rejection.
 */
export class Rejection implements PromiseLike<never> {
  readonly error: unknown

  constructor(error: unknown) {
    this.error = error
  }

  // biome-ignore lint/suspicious/noThenProperty: a thenable on purpose, see the class comment.
  then<A = never, B = never>(
    _onFulfilled?: ((value: never) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): PromiseLike<A | B> {
    onRejected?.(this.error)
    return this as PromiseLike<never>
  }
}

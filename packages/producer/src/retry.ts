import { backoffDelay } from '@kinesis-ts/shared'
import { DeadlineTimer } from './deadline-timer.js'
import type { ProducerMetrics } from './metrics.js'
import { type KinesisRecord, rawKinesisRecord } from './pending.js'
import { type Settlement, addAttempt } from './settlement.js'
import type { Attempt } from './types.js'

export interface RetryOptions {
  readonly recordTtl: number
  readonly failIfThrottled: boolean
  readonly retryBackoffBaseMillis: number
  readonly retryBackoffMaxMillis: number
}

export interface RetryDeps {
  readonly metrics: ProducerMetrics
  readonly settlement: Settlement
  /** Back into collection. */
  readonly requeue: (record: KinesisRecord, now: number) => void
  /** Records are due again: send what may go. */
  readonly wake: () => void
}

/**
 * The retry step: a failed try of a Kinesis record is recorded in its user records' attempts; a
 * retriable one waits a full-jitter backoff and goes back to collection (re-predicted if the shard map
 * changed meanwhile), until recordTtl.
 */
export class Retries {
  readonly #options: RetryOptions
  readonly #deps: RetryDeps
  #waiting: KinesisRecord[] = []
  readonly #deadline = new DeadlineTimer(() => this.#onDeadline())

  constructor(options: RetryOptions, deps: RetryDeps) {
    this.#options = options
    this.#deps = deps
  }

  /** Records waiting for their backoff to end. */
  get waiting(): readonly KinesisRecord[] {
    return this.#waiting
  }

  failedTry(
    record: KinesisRecord,
    code: string,
    message: string,
    verdict: { retriable: boolean; throttled: boolean },
    startedAt: number,
    now: number,
  ): void {
    const { settlement, metrics } = this.#deps
    const attempt: Attempt = {
      delayMs: startedAt - record.lastEventAt,
      durationMs: now - startedAt,
      successful: false,
      errorCode: code,
      errorMessage: message,
    }
    for (const user of record.users) addAttempt(user, attempt)
    record.tries++
    record.lastEventAt = now
    metrics.error(code, record.target.label, record.predictedShardId)
    if (!verdict.retriable || (verdict.throttled && this.#options.failIfThrottled)) {
      settlement.failRecord(record, undefined, undefined, now)
      return
    }
    const delay = backoffDelay(record.tries - 1, {
      baseMs: this.#options.retryBackoffBaseMillis,
      maxMs: this.#options.retryBackoffMaxMillis,
    })
    if (now + delay >= record.oldestArrival + this.#options.recordTtl) {
      settlement.expire(record, now)
      return
    }
    record.notBefore = now + delay
    this.#waiting.push(record)
    this.#deadline.arm(record.notBefore, now)
  }

  /** Forgets every waiting record (destroy), returning them. */
  clear(): KinesisRecord[] {
    this.#deadline.clear()
    const waiting = this.#waiting
    this.#waiting = []
    return waiting
  }

  #onDeadline(): void {
    const now = performance.now()
    const waiting: KinesisRecord[] = []
    let next = Number.POSITIVE_INFINITY
    for (const record of this.#waiting) {
      if (record.notBefore > now) {
        waiting.push(record)
        next = Math.min(next, record.notBefore)
      } else {
        this.#requeue(record, now)
      }
    }
    this.#waiting = waiting
    if (Number.isFinite(next)) this.#deadline.arm(next, now)
    this.#deps.wake()
  }

  /** Back into collection, re-predicted when the shard map changed since the record was made. */
  #requeue(record: KinesisRecord, now: number): void {
    const { target } = record
    const { requeue } = this.#deps
    if (record.mapVersion === target.version || record.predictedShardId === undefined) {
      requeue(record, now)
      return
    }
    const first = record.users[0]!
    if (record.users.length > 1 && target.shardFor(first.hashKey) === record.predictedShardId) {
      // Same shard under the new map: the aggregate still routes right.
      requeue(record, now)
      return
    }
    for (const user of record.users) {
      const alone = rawKinesisRecord(user, target.shardFor(user.hashKey), target.version, now)
      alone.tries = record.tries
      alone.lastEventAt = record.lastEventAt
      requeue(alone, now)
    }
  }
}

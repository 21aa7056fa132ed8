import { backoffDelay } from '@kinesis-ts/shared'
import type { Lanes, ShardLane } from './lanes.js'
import type { ProducerMetrics } from './metrics.js'
import type { KinesisRecord, PendingUserRecord } from './pending.js'
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
  readonly lanes: Lanes
}

/**
 * The retry step. A failed try of a Kinesis record is recorded in its user records' attempts; a
 * terminal one fails them. Retriable ones go back to the head of their lane, in the order they were
 * added and before everything that came after them, and the lane (not each record) backs off once
 * per response with full-jitter exponential backoff: the shard's next request carries them first.
 * Records whose recordTtl would pass during the backoff fail now with Expired.
 */
export class Retries {
  readonly #options: RetryOptions
  readonly #deps: RetryDeps

  constructor(options: RetryOptions, deps: RetryDeps) {
    this.#options = options
    this.#deps = deps
  }

  /**
   * Records one failed try of `record` in its user records' attempts. True when they are to be
   * tried again (see backOff); false when they failed for good (terminal error, or throttled with
   * failIfThrottled).
   */
  failedTry(
    record: KinesisRecord,
    code: string,
    message: string,
    verdict: { readonly retriable: boolean; readonly throttled: boolean },
    startedAt: number,
    now: number,
  ): boolean {
    const attempt: Attempt = {
      delayMs: startedAt - record.lastEventAt,
      durationMs: now - startedAt,
      successful: false,
      errorCode: code,
      errorMessage: message,
    }
    for (const user of record.users) addAttempt(user, attempt)
    this.#deps.metrics.error(code, record.target.label, record.predictedShardId)
    if (!verdict.retriable || (verdict.throttled && this.#options.failIfThrottled)) {
      this.#deps.settlement.failUsers(record.users, undefined)
      return false
    }
    return true
  }

  /**
   * The lane's request, sent at `startedAt`, succeeded: its backoff starts over, unless the request
   * left before the lane's last failure (it says nothing about the shard since).
   */
  succeeded(lane: ShardLane, startedAt: number): void {
    if (startedAt >= lane.lastFailureAt) lane.failures = 0
  }

  /**
   * Puts the lane's failed user records (in the order they were added) back at its head and backs
   * the lane off once per failure episode; those whose recordTtl ends before the backoff does expire
   * now. A request sent (`startedAt`) before the lane's last failure belongs to that episode: without
   * preserveOrder several requests of a lane are in flight, and each of their failures growing the
   * backoff again would stall the shard for seconds over one overload.
   */
  backOff(lane: ShardLane, users: readonly PendingUserRecord[], startedAt: number, now: number): void {
    if (users.length === 0) return
    if (startedAt >= lane.lastFailureAt) this.#growBackoff(lane, now)
    const expiresBefore = lane.notBefore - this.#options.recordTtl
    const expired: PendingUserRecord[] = []
    const kept: PendingUserRecord[] = []
    for (const user of users) {
      if (user.settled) continue
      if (user.arrivedAt <= expiresBefore) expired.push(user)
      else kept.push(user)
    }
    if (expired.length > 0) this.#deps.settlement.expire(lane.target, lane.shardId, expired, now, now)
    this.#deps.lanes.unshift(lane, kept)
  }

  #growBackoff(lane: ShardLane, now: number): void {
    const delay = backoffDelay(lane.failures, {
      baseMs: this.#options.retryBackoffBaseMillis,
      maxMs: this.#options.retryBackoffMaxMillis,
    })
    lane.failures++
    lane.lastFailureAt = now
    lane.notBefore = Math.max(lane.notBefore, now + delay)
  }
}

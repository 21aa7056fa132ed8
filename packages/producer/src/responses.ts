import { type Logger, classifyError } from '@kinesis-ts/shared'
import type { Batch } from './collector.js'
import type { ShardLane } from './lanes.js'
import type { ProducerMetrics } from './metrics.js'
import type { KinesisRecord, PendingUserRecord } from './pending.js'
import type { Reshard } from './reshard.js'
import { classifyEntryError } from './retry-policy.js'
import type { Retries } from './retry.js'
import type { EntryOutcome, PutOutcome } from './sender.js'
import type { Settlement } from './settlement.js'
import type { Attempt } from './types.js'

export interface ResponsesDeps {
  readonly metrics: ProducerMetrics
  readonly settlement: Settlement
  readonly retries: Retries
  readonly reshard: Reshard
  readonly logger: Logger
}

/** What one response meant for one lane of its request. */
interface LaneVerdict {
  /** Its user records to try again, in the order they were added. */
  readonly retry: PendingUserRecord[]
  throttled: boolean
}

/**
 * Reads a PutRecords outcome: each entry is delivered (settled), landed on another shard (reshard),
 * or failed (retry); then each lane of the request learns how it went, once: its requests in flight,
 * its rate limiter (throttled or not), its backoff.
 */
export class Responses {
  readonly #deps: ResponsesDeps

  constructor(deps: ResponsesDeps) {
    this.#deps = deps
  }

  handle(batch: Batch, outcome: PutOutcome, startedAt: number, now: number): void {
    const verdicts = new Map<ShardLane, LaneVerdict>()
    for (const lane of batch.lanes) {
      if (!verdicts.has(lane)) {
        lane.inFlight--
        verdicts.set(lane, { retry: [], throttled: false })
      }
    }
    try {
      if (outcome.ok) this.#onEntries(batch, outcome.entries, verdicts, startedAt, now)
      else this.#onRequestFailed(batch, outcome.error, verdicts, startedAt, now)
    } catch (error) {
      // A bug here must not strand records: fail what is still unsettled rather than hang.
      this.#deps.logger.error({ err: error }, 'producer failed to handle a PutRecords response')
      for (const record of batch.records) {
        this.#deps.settlement.failUsers(record.users, {
          delayMs: 0,
          durationMs: now - startedAt,
          successful: false,
          errorCode: 'InternalError',
          errorMessage: String(error),
        })
      }
    }
    const { retries, reshard } = this.#deps
    for (const [lane, verdict] of verdicts) {
      // A request that failed whole for another reason (a 500, a timeout) says nothing about the rate.
      if (verdict.throttled) lane.limiter?.throttled(now)
      else if (outcome.ok) lane.limiter?.succeeded(now)
      if (verdict.retry.length > 0) retries.backOff(lane, verdict.retry, startedAt, now)
      else retries.succeeded(lane, startedAt)
      reshard.afterResponse(lane, now)
    }
  }

  #onEntries(
    batch: Batch,
    entries: readonly EntryOutcome[],
    verdicts: Map<ShardLane, LaneVerdict>,
    startedAt: number,
    now: number,
  ): void {
    for (let i = 0; i < batch.records.length; i++) {
      const record = batch.records[i]!
      const lane = batch.lanes[i]!
      const entry = entries[i]!
      if (entry.errorCode === undefined) {
        this.#succeeded(record, lane, entry, startedAt, now)
        continue
      }
      const verdict = classifyEntryError(entry.errorCode)
      const laneVerdict = verdicts.get(lane)!
      if (verdict.throttled) laneVerdict.throttled = true
      if (this.#deps.retries.failedTry(record, entry.errorCode, entry.errorMessage ?? '', verdict, startedAt, now)) {
        for (const user of record.users) laneVerdict.retry.push(user)
      }
    }
  }

  #onRequestFailed(
    batch: Batch,
    error: unknown,
    verdicts: Map<ShardLane, LaneVerdict>,
    startedAt: number,
    now: number,
  ): void {
    const classified = classifyError(error)
    const message = error instanceof Error ? error.message : String(error)
    this.#deps.logger.debug({ code: classified.code, records: batch.records.length }, 'PutRecords failed')
    for (let i = 0; i < batch.records.length; i++) {
      const record = batch.records[i]!
      const laneVerdict = verdicts.get(batch.lanes[i]!)!
      if (classified.throttled) laneVerdict.throttled = true
      if (this.#deps.retries.failedTry(record, classified.code, message, classified, startedAt, now)) {
        for (const user of record.users) laneVerdict.retry.push(user)
      }
    }
  }

  #succeeded(record: KinesisRecord, lane: ShardLane, entry: EntryOutcome, startedAt: number, now: number): void {
    const attempt: Attempt = { delayMs: startedAt - record.lastEventAt, durationMs: now - startedAt, successful: true }
    const shardId = entry.shardId
    if (record.predictedShardId !== undefined && shardId !== record.predictedShardId) {
      record.target.requestRefresh()
      // A record sent as it is was routed by Kinesis on its own key: it is where it belongs.
      if (record.users.length > 1) {
        this.#deps.reshard.landedElsewhere(record, lane, shardId, entry.sequenceNumber, attempt)
        return
      }
    }
    this.#deps.settlement.delivered(record, shardId, entry.sequenceNumber, attempt)
  }
}

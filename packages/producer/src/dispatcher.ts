import type { KinesisClient } from '@aws-sdk/client-kinesis'
import { type Logger, classifyError } from '@kinesis-ts/shared'
import type { Batch, Collector } from './collector.js'
import { DeadlineTimer } from './deadline-timer.js'
import { PRODUCER_METRICS as M, type ProducerMetrics } from './metrics.js'
import type { KinesisRecord } from './pending.js'
import type { Reshard } from './reshard.js'
import { classifyEntryError } from './retry-policy.js'
import type { Retries } from './retry.js'
import { type EntryOutcome, type PutOutcome, putRecords } from './sender.js'
import type { Settlement } from './settlement.js'
import type { Attempt } from './types.js'

export interface DispatcherOptions {
  readonly collectionMaxCount: number
  readonly collectionMaxSize: number
  readonly maxConnections: number
  readonly recordTtl: number
  readonly recordMaxBufferedTime: number
  readonly requestTimeout: number
  readonly logger: Logger
}

export interface DispatcherDeps {
  readonly kinesis: KinesisClient
  readonly metrics: ProducerMetrics
  readonly collector: Collector
  readonly settlement: Settlement
  readonly retries: () => Retries
  readonly reshard: () => Reshard
  /** Outstanding user records, for UserRecordsPending. */
  readonly outstanding: () => number
  /** The buffering deadline passed: seal what is due (before everything due is sent). */
  readonly onBufferDeadline: (now: number) => void
  /** Aborts every request in flight (destroy). */
  readonly signal: AbortSignal
}

interface InFlight {
  readonly batch: Batch
  readonly startedAt: number
}

/**
 * The collect and send steps: Kinesis records wait in the collector until a request is full or
 * their buffering time is up, go out as PutRecords requests while connections are free, and each
 * response is turned into settled, retried or re-routed records.
 */
export class Dispatcher {
  readonly #options: DispatcherOptions
  readonly #deps: DispatcherDeps
  readonly #inFlight = new Set<InFlight>()
  readonly #bufferDeadline = new DeadlineTimer(() => this.#onBufferDeadline())
  readonly #rateDeadline = new DeadlineTimer(() => this.drain(true))
  #stopped = false

  constructor(options: DispatcherOptions, deps: DispatcherDeps) {
    this.#options = options
    this.#deps = deps
  }

  /** Records in requests in flight. */
  *inFlightRecords(): Iterable<KinesisRecord> {
    for (const { batch } of this.#inFlight) yield* batch.records
  }

  /** Wakes at `at` to seal and send what is due by then. */
  wakeAt(at: number, now: number): void {
    this.#bufferDeadline.arm(at, now)
  }

  enqueue(record: KinesisRecord, now: number): void {
    const { collector } = this.#deps
    collector.add(record, now)
    const { collectionMaxCount, collectionMaxSize } = this.#options
    if (collector.count >= collectionMaxCount || collector.bytes >= collectionMaxSize) this.drain(false)
    else this.#bufferDeadline.arm(record.oldestArrival + this.#options.recordMaxBufferedTime, now)
  }

  /** Sends batches while connections are free: full ones, or whatever may go when `force`. */
  drain(force: boolean): void {
    if (this.#stopped) return
    const { collectionMaxCount, collectionMaxSize, maxConnections, recordTtl } = this.#options
    const { collector, settlement } = this.#deps
    while (this.#inFlight.size < maxConnections) {
      if (collector.count === 0) return
      if (!force && collector.count < collectionMaxCount && collector.bytes < collectionMaxSize) return
      const now = performance.now()
      const batch = collector.take({
        maxCount: collectionMaxCount,
        maxBytes: collectionMaxSize,
        now,
        expiredBefore: now - recordTtl,
        onExpired: (record) => settlement.expire(record, now),
      })
      if (batch.records.length === 0) {
        if (Number.isFinite(batch.waitMs)) this.#rateDeadline.arm(now + batch.waitMs, now)
        return
      }
      this.#send(batch, now)
    }
  }

  /** Stops sending and forgets the requests in flight (destroy), returning their records. */
  stop(): KinesisRecord[] {
    this.#stopped = true
    this.#bufferDeadline.clear()
    this.#rateDeadline.clear()
    const records = [...this.inFlightRecords()]
    this.#inFlight.clear()
    return records
  }

  /** Clears the timers (close, after everything settled). */
  clearTimers(): void {
    this.#bufferDeadline.clear()
    this.#rateDeadline.clear()
  }

  #onBufferDeadline(): void {
    this.#deps.onBufferDeadline(performance.now())
    this.drain(true)
  }

  #send(batch: Batch, now: number): void {
    const { metrics, kinesis } = this.#deps
    const target = batch.records[0]!.target
    const inFlight: InFlight = { batch, startedAt: now }
    this.#inFlight.add(inFlight)
    let users = 0
    for (const record of batch.records) {
      users += record.users.length
      if (record.tries === 0) {
        metrics.shard(
          M.BufferingTime,
          now - record.oldestArrival,
          'Milliseconds',
          target.label,
          record.predictedShardId,
        )
      }
    }
    metrics.emitReceived()
    metrics.stream(M.UserRecordsPending, this.#deps.outstanding(), 'Count', target.label)
    metrics.stream(M.KinesisRecordsPerPutRecordsRequest, batch.records.length, 'Count', target.label)
    metrics.stream(M.UserRecordsPerPutRecordsRequest, users, 'Count', target.label)
    void putRecords(kinesis, target, batch.records, this.#options.requestTimeout, this.#deps.signal).then((outcome) =>
      this.#onResponse(inFlight, outcome),
    )
  }

  #onResponse(inFlight: InFlight, outcome: PutOutcome): void {
    if (this.#stopped || !this.#inFlight.delete(inFlight)) return
    const { batch, startedAt } = inFlight
    const { collector, metrics, settlement } = this.#deps
    collector.release(batch)
    const now = performance.now()
    const target = batch.records[0]!.target
    metrics.stream(M.RequestTime, now - startedAt, 'Milliseconds', target.label)
    try {
      if (outcome.ok) this.#onEntries(batch, outcome.entries, startedAt, now)
      else this.#onRequestFailed(batch, outcome, startedAt, now)
    } catch (error) {
      // A bug here must not strand records: fail what is still unsettled rather than hang.
      this.#options.logger.error({ err: error }, 'producer failed to handle a PutRecords response')
      for (const record of batch.records) settlement.failRecord(record, 'InternalError', String(error), now)
    }
    this.drain(true)
  }

  #onEntries(batch: Batch, entries: readonly EntryOutcome[], startedAt: number, now: number): void {
    const throttledShards = new Set<string>()
    const retries = this.#deps.retries()
    for (let i = 0; i < batch.records.length; i++) {
      const record = batch.records[i]!
      const entry = entries[i]!
      if (entry.errorCode === undefined) {
        this.#succeeded(record, entry, startedAt, now)
        continue
      }
      const verdict = classifyEntryError(entry.errorCode)
      if (verdict.throttled && record.predictedShardId !== undefined) throttledShards.add(record.predictedShardId)
      retries.failedTry(record, entry.errorCode, entry.errorMessage ?? '', verdict, startedAt, now)
    }
    for (const queue of batch.queues) {
      if (queue.shardId === undefined) continue
      if (throttledShards.has(queue.shardId)) queue.limiter?.throttled()
      else queue.limiter?.succeeded()
    }
  }

  #onRequestFailed(batch: Batch, outcome: PutOutcome & { ok: false }, startedAt: number, now: number): void {
    const classified = classifyError(outcome.error)
    const message = outcome.error instanceof Error ? outcome.error.message : String(outcome.error)
    if (classified.throttled) for (const queue of batch.queues) queue.limiter?.throttled()
    this.#options.logger.debug({ code: classified.code, records: batch.records.length }, 'PutRecords failed')
    const retries = this.#deps.retries()
    for (const record of batch.records) retries.failedTry(record, classified.code, message, classified, startedAt, now)
  }

  #succeeded(record: KinesisRecord, entry: EntryOutcome, startedAt: number, now: number): void {
    const attempt: Attempt = { delayMs: startedAt - record.lastEventAt, durationMs: now - startedAt, successful: true }
    const shardId = entry.shardId
    if (record.predictedShardId !== undefined && shardId !== record.predictedShardId) {
      record.target.requestRefresh()
      if (record.users.length > 1) {
        this.#deps.reshard().landedOnOtherShard(record, shardId, entry.sequenceNumber, attempt, now)
        return
      }
    }
    this.#deps.settlement.delivered(record, shardId, entry.sequenceNumber, attempt)
  }
}

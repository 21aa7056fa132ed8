import { setMaxListeners } from 'node:events'
import type { KinesisClient } from '@aws-sdk/client-kinesis'
import {
  ClosedError,
  type CloudWatchMetrics,
  HashKeyCache,
  InMemoryMetrics,
  InvalidArgumentError,
  type MetricSummary,
  backoffDelay,
  classifyError,
  cloudWatchSink,
  isolatedMetrics,
  kinesisClientFrom,
} from '@kinesis-ts/shared'
import { ShardAggregator } from './aggregator.js'
import { Admission } from './backpressure.js'
import { type Batch, Collector } from './collector.js'
import { type KinesisProducerOptions, type ResolvedProducerConfig, resolveProducerConfig } from './config.js'
import { UserRecordFailedError } from './errors.js'
import { FlushTracker } from './flush-tracker.js'
import { PRODUCER_METRICS as M, PRODUCER_METRICS_NAMESPACE, ProducerMetrics } from './metrics.js'
import { type KinesisRecord, type PendingUserRecord, rawKinesisRecord } from './pending.js'
import { classifyEntryError } from './retry-policy.js'
import { type EntryOutcome, type PutOutcome, putRecords } from './sender.js'
import { StreamTarget } from './stream-target.js'
import type { Attempt, UserRecord, UserRecordResult } from './types.js'
import { type CheckedRecord, checkUserRecord } from './validate.js'

function addAttempt(user: PendingUserRecord, attempt: Attempt): void {
  if (user.attempts === undefined) user.attempts = [attempt]
  else user.attempts.push(attempt)
}

interface LandedElsewhere {
  readonly record: KinesisRecord
  readonly shardId: string | undefined
  readonly sequenceNumber: string | undefined
  readonly attempt: Attempt
}

/** One call of addUserRecord, admitted or waiting for room (see Admission). */
interface AddCall extends CheckedRecord {
  readonly source: UserRecord
  readonly target: StreamTarget
  readonly generation: number
  readonly resolve: (result: UserRecordResult) => void
  readonly reject: (error: unknown) => void
}

interface InFlight {
  readonly batch: Batch
  readonly startedAt: number
}

/** One-shot timer that can only be moved earlier. */
class Deadline {
  #timer: ReturnType<typeof setTimeout> | undefined
  #at = Number.POSITIVE_INFINITY
  readonly #fire: () => void

  constructor(fire: () => void) {
    this.#fire = fire
  }

  arm(at: number, now: number): void {
    if (this.#timer !== undefined && this.#at <= at) return
    clearTimeout(this.#timer)
    this.#at = at
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined
        this.#at = Number.POSITIVE_INFINITY
        this.#fire()
      },
      Math.max(0, at - now),
    )
  }

  clear(): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.#at = Number.POSITIVE_INFINITY
  }
}

/**
 * The Kinesis Producer Library in TypeScript: user records are aggregated per predicted shard,
 * collected into PutRecords requests, rate-limited per shard, retried with backoff until
 * `recordTtl`, and settled one promise per user record. Memory is bounded by
 * `maxOutstandingRecords` and `maxBufferedBytes`: beyond them `addUserRecord` waits.
 */
export class KinesisProducer {
  readonly config: ResolvedProducerConfig
  readonly #kinesis: KinesisClient
  readonly #ownsClient: boolean
  readonly #targets = new Map<string, StreamTarget>()
  readonly #hashKeys: HashKeyCache
  /** Per stream, per predicted shard. */
  readonly #aggregators = new Map<StreamTarget, Map<string, ShardAggregator>>()
  /** Aggregators holding records, in the order they opened (so the first is the most urgent). */
  readonly #open = new Set<ShardAggregator>()
  readonly #collector: Collector
  readonly #admission: Admission<AddCall>
  readonly #flushes = new FlushTracker()
  readonly #inMemory = new InMemoryMetrics()
  readonly #metrics: ProducerMetrics
  readonly #inFlight = new Set<InFlight>()
  #retries: KinesisRecord[] = []
  /**
   * Records held until a stream's shard map (re)loads: before its first map (a few ms, once per
   * stream), and after an aggregate landed on another shard than predicted (a split or merge).
   */
  readonly #awaitingMap = new Map<StreamTarget, PendingUserRecord[]>()
  /** Aggregates that landed on another shard than predicted, to be judged against the new map. */
  readonly #landedElsewhere = new Map<StreamTarget, LandedElsewhere[]>()
  readonly #stale = new Set<StreamTarget>()
  readonly #bufferDeadline = new Deadline(() => this.#onBufferDeadline())
  readonly #retryDeadline = new Deadline(() => this.#onRetryDeadline())
  readonly #rateDeadline = new Deadline(() => this.#drain(true))
  readonly #refreshTimer: ReturnType<typeof setInterval>
  readonly #abort = new AbortController()
  readonly #cloudWatch: CloudWatchMetrics | undefined
  #flushImmediate: ReturnType<typeof setImmediate> | undefined
  #defaultTarget: StreamTarget | undefined
  #closing: Promise<void> | undefined
  #destroyed = false

  constructor(options: KinesisProducerOptions = {}) {
    this.config = resolveProducerConfig(options)
    // Before the Kinesis client: a bad cloudWatch option must not leave sockets behind.
    this.#cloudWatch =
      this.config.cloudWatch === undefined
        ? undefined
        : cloudWatchSink(
            'cloudWatch',
            this.config.cloudWatch,
            { namespace: PRODUCER_METRICS_NAMESPACE, region: this.config.region, credentials: this.config.credentials },
            (error) => this.config.logger.warn({ err: error }, 'CloudWatch PutMetricData failed'),
          )
    const { client, owned } = kinesisClientFrom(this.config.kinesisClient, {
      region: this.config.region,
      endpoint: this.config.endpoint,
      credentials: this.config.credentials,
      maxSockets: this.config.maxConnections,
      requestTimeoutMs: this.config.requestTimeout,
    })
    this.#kinesis = client
    this.#ownsClient = owned
    // Every request in flight listens for destroy().
    setMaxListeners(this.config.maxConnections + 8, this.#abort.signal)
    this.#hashKeys = new HashKeyCache(this.config.hashKeyCacheSize)
    this.#collector = new Collector(this.config.rateLimit, this.config.preserveOrder)
    // Admitted calls start on a microtask: release() runs while a response is being settled.
    this.#admission = new Admission<AddCall>(this.config.maxOutstandingRecords, this.config.maxBufferedBytes, (call) =>
      queueMicrotask(() => this.#start(call)),
    )
    // A sink that throws must not strand a batch or fail a record: it is isolated and logged.
    // Every sink (in-memory, the user's, CloudWatch), each isolated from the others and from us.
    const sink = isolatedMetrics(
      [this.#inMemory, this.config.metrics, ...(this.#cloudWatch === undefined ? [] : [this.#cloudWatch])],
      (error, suppressed) =>
        this.config.logger.warn({ err: error, suppressed }, 'a metrics sink threw; measurement dropped'),
    )
    this.#metrics = new ProducerMetrics(sink)
    // Shards change (splits, merges, scaling) without telling producers; wrong-shard answers also
    // trigger a refresh, this catches the rest.
    this.#refreshTimer = setInterval(() => {
      for (const target of this.#targets.values()) void target.refresh()
    }, this.config.shardMapRefreshIntervalMillis)
    this.#refreshTimer.unref()
    if (this.config.streamName !== undefined || this.config.streamARN !== undefined) {
      this.#defaultTarget = this.#target(this.config.streamName, this.config.streamARN)
    }
  }

  /**
   * Puts one user record. Resolves when Kinesis has it (with its shard, sequence number and every
   * attempt); rejects with UserRecordFailedError when it cannot be put, or at once with
   * InvalidArgumentError for bad input. Waits first while the producer is at its memory limits.
   */
  addUserRecord(record: UserRecord): Promise<UserRecordResult> {
    if (this.#closing !== undefined || this.#destroyed) return Promise.reject(new ClosedError('KinesisProducer'))
    let checked: CheckedRecord
    let target: StreamTarget
    try {
      checked = checkUserRecord(record, this.config.maxUserRecordSize)
      target = this.#targetOf(record)
    } catch (error) {
      return Promise.reject(error)
    }
    const generation = this.#flushes.generation
    this.#flushes.added(generation)
    const admitted = this.#admission.tryAdmit(checked.bytes)
    return new Promise((resolve, reject) => {
      // The checked fields are copied, not referenced: one object per waiting call, not two.
      const call: AddCall = {
        partitionKey: checked.partitionKey,
        data: checked.data,
        explicitHashKey: checked.explicitHashKey,
        explicitHashKeyValue: checked.explicitHashKeyValue,
        bytes: checked.bytes,
        source: record,
        target,
        generation,
        resolve,
        reject,
      }
      if (admitted) this.#start(call)
      else this.#admission.wait(call)
    })
  }

  /** Sends everything buffered now; resolves when every record added before the call has settled. */
  flush(): Promise<void> {
    const done = this.#flushes.flush()
    this.#sendEverything()
    return done
  }

  /** User records added and not yet settled (waiting callers not included). */
  getOutstandingRecordsCount(): number {
    return this.#admission.records
  }

  /** Bytes (data + partition keys) of the outstanding user records: never above maxBufferedBytes. */
  getBufferedBytes(): number {
    return this.#admission.bytes
  }

  /** Age in ms of the oldest outstanding user record; 0 when none is outstanding. */
  getOldestRecordTimeMs(): number {
    let oldest = this.#collector.oldestArrival()
    for (const aggregator of this.#open) {
      oldest = Math.min(oldest, aggregator.openedAt)
      break
    }
    for (const record of this.#retries) oldest = Math.min(oldest, record.oldestArrival)
    for (const users of this.#awaitingMap.values()) oldest = Math.min(oldest, users[0]?.arrivedAt ?? oldest)
    for (const { batch } of this.#inFlight) {
      for (const record of batch.records) oldest = Math.min(oldest, record.oldestArrival)
    }
    return Number.isFinite(oldest) ? Math.max(0, performance.now() - oldest) : 0
  }

  /** KPL-named metrics over the last `windowSeconds` (default: all that is kept, 5 minutes). */
  getMetrics(windowSeconds?: number): MetricSummary[] {
    this.#metrics.emitReceived()
    return this.#inMemory.snapshot(windowSeconds)
  }

  /** Flushes, then frees sockets and timers. Later calls of addUserRecord reject with ClosedError. */
  close(): Promise<void> {
    this.#closing ??= this.flush()
      .then(() => this.#release())
      .then(() => {
        // Records that failed before any request (no shard map, destroyed) were received too.
        this.#metrics.emitReceived()
        return this.#cloudWatch?.close()
      })
    return this.#closing
  }

  /** Stops now: every outstanding record fails with errorCode 'Destroyed'. */
  destroy(): void {
    if (this.#destroyed) return
    this.#destroyed = true
    this.#abort.abort(new ClosedError('KinesisProducer'))
    const now = performance.now()
    const destroyed = (record: KinesisRecord) =>
      this.#failRecord(record, 'Destroyed', 'the producer was destroyed', now)
    for (const aggregator of this.#open) {
      const record = aggregator.seal(now)
      if (record !== undefined) destroyed(record)
    }
    this.#open.clear()
    for (const users of this.#awaitingMap.values()) {
      for (const user of users) destroyed(rawKinesisRecord(user, undefined, 0, now))
    }
    this.#awaitingMap.clear()
    for (const landed of this.#landedElsewhere.values()) for (const { record } of landed) destroyed(record)
    this.#landedElsewhere.clear()
    for (const record of this.#collector.drainAll()) destroyed(record)
    for (const record of this.#retries) destroyed(record)
    this.#retries = []
    for (const { batch } of this.#inFlight) for (const record of batch.records) destroyed(record)
    this.#inFlight.clear()
    // Waiting callers get in and fail at once in #start.
    this.#admission.releaseAll()
    this.#release()
    void this.#cloudWatch?.close()
  }

  #release(): void {
    clearInterval(this.#refreshTimer)
    clearImmediate(this.#flushImmediate)
    this.#flushImmediate = undefined
    this.#bufferDeadline.clear()
    this.#retryDeadline.clear()
    this.#rateDeadline.clear()
    for (const target of this.#targets.values()) target.close()
    if (this.#ownsClient) this.#kinesis.destroy()
  }

  #targetOf(record: UserRecord): StreamTarget {
    const { streamName, streamARN } = record
    if (streamName === undefined && streamARN === undefined) {
      if (this.#defaultTarget === undefined) {
        throw new InvalidArgumentError('streamName', 'is required: the producer was created without a default stream')
      }
      return this.#defaultTarget
    }
    if (streamARN !== undefined && (typeof streamARN !== 'string' || streamARN.length === 0)) {
      throw new InvalidArgumentError('streamARN', 'must be a non-empty string', streamARN)
    }
    if (streamName !== undefined && (typeof streamName !== 'string' || streamName.length === 0)) {
      throw new InvalidArgumentError('streamName', 'must be a non-empty string', streamName)
    }
    return this.#target(streamARN === undefined ? streamName : undefined, streamARN)
  }

  #target(streamName: string | undefined, streamARN: string | undefined): StreamTarget {
    const key = streamARN ?? `name:${streamName}`
    let target = this.#targets.get(key)
    if (target === undefined) {
      target = new StreamTarget({ streamName, streamARN }, this.#kinesis, this.config.logger, (loaded, changed) =>
        this.#onShardMap(loaded, changed),
      )
      this.#targets.set(key, target)
      void target.refresh()
    }
    return target
  }

  /** An admitted call becomes a pending user record and is routed. */
  #start(call: AddCall): void {
    const { source, target, generation, resolve, reject } = call
    const now = performance.now()
    const user: PendingUserRecord = {
      source,
      partitionKey: call.partitionKey,
      explicitHashKey: call.explicitHashKey,
      hashKey: call.explicitHashKeyValue ?? this.#hashKeys.get(call.partitionKey),
      data: call.data,
      bytes: call.bytes,
      target,
      arrivedAt: now,
      generation,
      attempts: undefined,
      settled: false,
      resolve,
      reject,
    }
    this.#metrics.received(target.label)
    if (this.#destroyed) {
      this.#failUser(user, [
        {
          delayMs: 0,
          durationMs: 0,
          successful: false,
          errorCode: 'Destroyed',
          errorMessage: 'the producer was destroyed',
        },
      ])
      return
    }
    this.#route(user, now)
  }

  /** Seals every open aggregate and sends whatever may go now. */
  #sendEverything(): void {
    if (this.#destroyed) return
    this.#sealAll(performance.now(), undefined)
    this.#drain(true)
  }

  /** #sendEverything once the current burst of routing is over. */
  #flushSoon(): void {
    this.#flushImmediate ??= setImmediate(() => {
      this.#flushImmediate = undefined
      this.#sendEverything()
    })
  }

  #hold(user: PendingUserRecord): void {
    const waiting = this.#awaitingMap.get(user.target)
    if (waiting === undefined) this.#awaitingMap.set(user.target, [user])
    else waiting.push(user)
  }

  /**
   * Routes a record; one that a flush() or close() already waits for (it was held for room or for a
   * shard map when the flush was asked for) goes out now, not after recordMaxBufferedTime.
   */
  #route(user: PendingUserRecord, now: number): void {
    this.#place(user, now)
    if (user.generation < this.#flushes.generation) this.#flushSoon()
  }

  /** Into the aggregator of the predicted shard, or straight to the collector when it goes alone. */
  #place(user: PendingUserRecord, now: number): void {
    const { target } = user
    if (!target.attempted || this.#stale.has(target)) {
      // Without a map every record would go alone (the first ListShards takes a round trip); with a
      // stale one, records would land on shards whose consumers drop them.
      this.#hold(user)
      return
    }
    const shardId = target.shardFor(user.hashKey)
    if (shardId === undefined) {
      // No map yet (or a gap): send it alone and let Kinesis route it by its own key.
      target.requestRefresh()
      this.#enqueue(rawKinesisRecord(user, undefined, target.version, now), now)
      return
    }
    if (!this.config.aggregationEnabled) {
      this.#enqueue(rawKinesisRecord(user, shardId, target.version, now), now)
      return
    }
    const aggregator = this.#aggregatorFor(target, shardId)
    const { aggregationMaxSize: maxSize, aggregationMaxCount: maxCount } = this.config
    if (!aggregator.tryAdd(user, maxSize, maxCount)) {
      // Too big to share an aggregate even when empty: it goes alone, as the KPL does.
      if (aggregator.count === 0) {
        this.#enqueue(rawKinesisRecord(user, shardId, target.version, now), now)
        return
      }
      this.#seal(aggregator, now)
      if (!aggregator.tryAdd(user, maxSize, maxCount)) {
        this.#enqueue(rawKinesisRecord(user, shardId, target.version, now), now)
        return
      }
    }
    if (aggregator.count === 1) {
      this.#open.add(aggregator)
      this.#bufferDeadline.arm(aggregator.openedAt + this.config.recordMaxBufferedTime, now)
    }
    if (aggregator.count >= maxCount) this.#seal(aggregator, now)
  }

  #aggregatorFor(target: StreamTarget, shardId: string): ShardAggregator {
    let byShard = this.#aggregators.get(target)
    if (byShard === undefined) {
      byShard = new Map()
      this.#aggregators.set(target, byShard)
    }
    let aggregator = byShard.get(shardId)
    if (aggregator === undefined) {
      aggregator = new ShardAggregator(target, shardId, target.version)
      byShard.set(shardId, aggregator)
    }
    return aggregator
  }

  #seal(aggregator: ShardAggregator, now: number): void {
    this.#open.delete(aggregator)
    const record = aggregator.seal(now)
    if (record !== undefined) this.#enqueue(record, now)
  }

  /** Seals every open aggregator (of one stream, or all). */
  #sealAll(now: number, target: StreamTarget | undefined): void {
    for (const aggregator of this.#open) {
      if (target === undefined || aggregator.target === target) this.#seal(aggregator, now)
    }
  }

  #enqueue(record: KinesisRecord, now: number): void {
    this.#collector.add(record, now)
    const { collectionMaxCount, collectionMaxSize } = this.config
    if (this.#collector.count >= collectionMaxCount || this.#collector.bytes >= collectionMaxSize) this.#drain(false)
    else this.#bufferDeadline.arm(record.oldestArrival + this.config.recordMaxBufferedTime, now)
  }

  #onBufferDeadline(): void {
    const now = performance.now()
    const due = now - this.config.recordMaxBufferedTime + 1
    for (const aggregator of this.#open) {
      if (aggregator.openedAt > due) {
        this.#bufferDeadline.arm(aggregator.openedAt + this.config.recordMaxBufferedTime, now)
        break
      }
      this.#seal(aggregator, now)
    }
    this.#drain(true)
  }

  /**
   * A ListShards round ended. With a new map, aggregates predicted on the old one go out now and new
   * records use the new map; then whatever waited for it is judged and routed, oldest first.
   */
  #onShardMap(target: StreamTarget, changed: boolean): void {
    if (this.#destroyed) return
    const now = performance.now()
    if (changed) {
      this.#sealAll(now, target)
      this.#aggregators.delete(target)
    }
    this.#stale.delete(target)
    const landed = this.#landedElsewhere.get(target) ?? []
    this.#landedElsewhere.delete(target)
    const waiting = this.#awaitingMap.get(target) ?? []
    this.#awaitingMap.delete(target)
    for (const entry of landed) this.#judgeLanded(entry, now)
    for (const user of waiting) this.#route(user, now)
    this.#drain(false)
  }

  /**
   * Sub-records inside the shard the aggregate landed on are delivered (the consumer keeps them):
   * they succeeded. The others are dropped by consumers, as by the Java KCL: they go again.
   */
  #judgeLanded({ record, shardId, sequenceNumber, attempt }: LandedElsewhere, now: number): void {
    const range = shardId === undefined ? undefined : record.target.map?.rangeOf(shardId)
    const { users } = record
    const firstTry: readonly Attempt[] = Object.freeze([attempt])
    for (let i = 0; i < users.length; i++) {
      const user = users[i]!
      if (range !== undefined && user.hashKey >= range.startingHashKey && user.hashKey <= range.endingHashKey) {
        this.#resolveUser(user, attempt, firstTry, shardId, sequenceNumber, i)
        continue
      }
      addAttempt(user, {
        ...attempt,
        successful: false,
        errorCode: 'WrongShard',
        errorMessage: `aggregate predicted for ${record.predictedShardId} landed on ${shardId}, outside this record's range`,
      })
      this.#route(user, now)
    }
  }

  /** Sends batches while connections are free: full ones, or whatever may go when `force`. */
  #drain(force: boolean): void {
    if (this.#destroyed) return
    const { collectionMaxCount, collectionMaxSize, maxConnections, recordTtl } = this.config
    while (this.#inFlight.size < maxConnections) {
      if (this.#collector.count === 0) return
      if (!force && this.#collector.count < collectionMaxCount && this.#collector.bytes < collectionMaxSize) return
      const now = performance.now()
      const batch = this.#collector.take({
        maxCount: collectionMaxCount,
        maxBytes: collectionMaxSize,
        now,
        expiredBefore: now - recordTtl,
        onExpired: (record) => this.#expire(record, now),
      })
      if (batch.records.length === 0) {
        if (Number.isFinite(batch.waitMs)) this.#rateDeadline.arm(now + batch.waitMs, now)
        return
      }
      this.#send(batch, now)
    }
  }

  #send(batch: Batch, now: number): void {
    const target = batch.records[0]!.target
    const inFlight: InFlight = { batch, startedAt: now }
    this.#inFlight.add(inFlight)
    let users = 0
    for (const record of batch.records) {
      users += record.users.length
      if (record.tries === 0) {
        this.#metrics.shard(
          M.BufferingTime,
          now - record.oldestArrival,
          'Milliseconds',
          target.label,
          record.predictedShardId,
        )
      }
    }
    this.#metrics.emitReceived()
    this.#metrics.stream(M.UserRecordsPending, this.#admission.records, 'Count', target.label)
    this.#metrics.stream(M.KinesisRecordsPerPutRecordsRequest, batch.records.length, 'Count', target.label)
    this.#metrics.stream(M.UserRecordsPerPutRecordsRequest, users, 'Count', target.label)
    void putRecords(this.#kinesis, target, batch.records, this.config.requestTimeout, this.#abort.signal).then(
      (outcome) => this.#onResponse(inFlight, outcome),
    )
  }

  #onResponse(inFlight: InFlight, outcome: PutOutcome): void {
    if (this.#destroyed || !this.#inFlight.delete(inFlight)) return
    const { batch, startedAt } = inFlight
    this.#collector.release(batch)
    const now = performance.now()
    const target = batch.records[0]!.target
    this.#metrics.stream(M.RequestTime, now - startedAt, 'Milliseconds', target.label)
    try {
      if (outcome.ok) this.#onEntries(batch, outcome.entries, startedAt, now)
      else this.#onRequestFailed(batch, outcome, startedAt, now)
    } catch (error) {
      // A bug here must not strand records: fail what is still unsettled rather than hang.
      this.config.logger.error({ err: error }, 'producer failed to handle a PutRecords response')
      for (const record of batch.records) this.#failRecord(record, 'InternalError', String(error), now)
    }
    this.#drain(true)
  }

  #onEntries(batch: Batch, entries: readonly EntryOutcome[], startedAt: number, now: number): void {
    const throttledShards = new Set<string>()
    for (let i = 0; i < batch.records.length; i++) {
      const record = batch.records[i]!
      const entry = entries[i]!
      if (entry.errorCode === undefined) {
        this.#succeeded(record, entry, startedAt, now)
        continue
      }
      const verdict = classifyEntryError(entry.errorCode)
      if (verdict.throttled && record.predictedShardId !== undefined) throttledShards.add(record.predictedShardId)
      this.#failedTry(record, entry.errorCode, entry.errorMessage ?? '', verdict, startedAt, now)
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
    this.config.logger.debug({ code: classified.code, records: batch.records.length }, 'PutRecords failed')
    for (const record of batch.records) this.#failedTry(record, classified.code, message, classified, startedAt, now)
  }

  #succeeded(record: KinesisRecord, entry: EntryOutcome, startedAt: number, now: number): void {
    const attempt: Attempt = { delayMs: startedAt - record.lastEventAt, durationMs: now - startedAt, successful: true }
    const { target, users } = record
    const shardId = entry.shardId
    if (record.predictedShardId !== undefined && shardId !== record.predictedShardId) {
      target.requestRefresh()
      if (users.length > 1) {
        this.#landedOnOtherShard(record, shardId, entry.sequenceNumber, attempt, now)
        return
      }
    }
    // Users that succeed on their first try share one frozen attempts list: one array per aggregate,
    // not one per user record.
    const firstTry: readonly Attempt[] = Object.freeze([attempt])
    let dataBytes = 0
    for (let i = 0; i < users.length; i++) {
      dataBytes += users[i]!.data.length
      this.#resolveUser(users[i]!, attempt, firstTry, shardId, entry.sequenceNumber, users.length > 1 ? i : 0)
    }
    const label = target.label
    this.#metrics.shard(M.KinesisRecordsPut, 1, 'Count', label, shardId)
    this.#metrics.shard(M.KinesisRecordsDataPut, record.data.length, 'Bytes', label, shardId)
    this.#metrics.shard(M.UserRecordsPut, users.length, 'Count', label, shardId)
    this.#metrics.shard(M.UserRecordsDataPut, dataBytes, 'Bytes', label, shardId)
    this.#metrics.shard(M.UserRecordsPerKinesisRecord, users.length, 'Count', label, shardId)
    this.#metrics.shard(M.RetriesPerRecord, record.tries, 'Count', label, shardId)
  }

  #resolveUser(
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

  /**
   * An aggregate landed on another shard than predicted: the map is stale (a split or merge). Until
   * a new map arrives, this shard's queued and new records wait, so that records of a key keep their
   * order; then each sub-record is judged against the new map (see #judgeLanded).
   */
  #landedOnOtherShard(
    record: KinesisRecord,
    shardId: string | undefined,
    sequenceNumber: string | undefined,
    attempt: Attempt,
    now: number,
  ): void {
    const { target } = record
    this.#metrics.error('WrongShard', target.label, record.predictedShardId)
    this.#stale.add(target)
    const landed = this.#landedElsewhere.get(target)
    const entry = { record, shardId, sequenceNumber, attempt }
    if (landed === undefined) this.#landedElsewhere.set(target, [entry])
    else landed.push(entry)
    const predicted = record.predictedShardId!
    for (const aggregator of this.#open) {
      if (aggregator.target === target && aggregator.shardId === predicted) {
        this.#open.delete(aggregator)
        const open = aggregator.seal(now)
        if (open !== undefined) for (const user of open.users) this.#hold(user)
      }
    }
    for (const queued of this.#collector.drainQueue(target.key, predicted)) {
      for (const user of queued.users) this.#hold(user)
    }
    target.requestRefresh()
  }

  #failedTry(
    record: KinesisRecord,
    code: string,
    message: string,
    verdict: { retriable: boolean; throttled: boolean },
    startedAt: number,
    now: number,
  ): void {
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
    this.#metrics.error(code, record.target.label, record.predictedShardId)
    if (!verdict.retriable || (verdict.throttled && this.config.failIfThrottled)) {
      this.#failRecord(record, undefined, undefined, now)
      return
    }
    const delay = backoffDelay(record.tries - 1, {
      baseMs: this.config.retryBackoffBaseMillis,
      maxMs: this.config.retryBackoffMaxMillis,
    })
    if (now + delay >= record.oldestArrival + this.config.recordTtl) {
      this.#expire(record, now)
      return
    }
    record.notBefore = now + delay
    this.#retries.push(record)
    this.#retryDeadline.arm(record.notBefore, now)
  }

  #onRetryDeadline(): void {
    const now = performance.now()
    const waiting: KinesisRecord[] = []
    let next = Number.POSITIVE_INFINITY
    for (const record of this.#retries) {
      if (record.notBefore > now) {
        waiting.push(record)
        next = Math.min(next, record.notBefore)
      } else {
        this.#requeue(record, now)
      }
    }
    this.#retries = waiting
    if (Number.isFinite(next)) this.#retryDeadline.arm(next, now)
    this.#drain(true)
  }

  /** Back into the collector, re-predicted when the shard map changed since the record was made. */
  #requeue(record: KinesisRecord, now: number): void {
    const { target } = record
    if (record.mapVersion === target.version || record.predictedShardId === undefined) {
      this.#collector.add(record, now)
      return
    }
    const first = record.users[0]!
    if (record.users.length > 1 && target.shardFor(first.hashKey) === record.predictedShardId) {
      // Same shard under the new map: the aggregate still routes right.
      this.#collector.add(record, now)
      return
    }
    for (const user of record.users) {
      const alone = rawKinesisRecord(user, target.shardFor(user.hashKey), target.version, now)
      alone.tries = record.tries
      alone.lastEventAt = record.lastEventAt
      this.#collector.add(alone, now)
    }
  }

  #expire(record: KinesisRecord, now: number): void {
    this.#metrics.shard(M.UserRecordExpired, record.users.length, 'Count', record.target.label, record.predictedShardId)
    this.#failRecord(record, 'Expired', `recordTtl (${this.config.recordTtl} ms) passed before it could be put`, now)
  }

  /** Fails every user record of `record`; with a code, that is added as a last attempt first. */
  #failRecord(record: KinesisRecord, code: string | undefined, message: string | undefined, now: number): void {
    for (const user of record.users) {
      const extra: Attempt[] =
        code === undefined
          ? []
          : [
              {
                delayMs: now - record.lastEventAt,
                durationMs: 0,
                successful: false,
                errorCode: code,
                errorMessage: message ?? code,
              },
            ]
      this.#failUser(user, extra)
    }
  }

  #failUser(user: PendingUserRecord, extra: readonly Attempt[]): void {
    if (user.settled) return
    const attempts = [...(user.attempts ?? []), ...extra]
    this.#settle(user)
    user.reject(
      new UserRecordFailedError(
        { successful: false, shardId: undefined, sequenceNumber: undefined, subSequenceNumber: 0, attempts },
        user.source,
      ),
    )
  }

  #settle(user: PendingUserRecord): void {
    if (user.settled) return
    user.settled = true
    this.#admission.release(user.bytes)
    this.#flushes.settled(user.generation)
  }
}

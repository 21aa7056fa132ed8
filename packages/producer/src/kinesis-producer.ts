import { setMaxListeners } from 'node:events'
import { ClosedError, HashKeyCache, type MetricSummary } from '@kinesis-ts/shared'
import { Admission } from './backpressure.js'
import { type KinesisProducerOptions, type ResolvedProducerConfig, resolveProducerConfig } from './config.js'
import { DataSlabs } from './data-slabs.js'
import { FlushTracker } from './flush-tracker.js'
import { PromiseSettlers, pendingUserRecord } from './intake.js'
import type { PendingUserRecord } from './pending.js'
import { Pipeline } from './pipeline.js'
import { type ProducerResources, openResources } from './resources.js'
import { DESTROYED } from './settlement.js'
import { StreamTargets } from './stream-targets.js'
import { ProducerTracing } from './tracing.js'
import type { UserRecord, UserRecordResult } from './types.js'
import { type CheckedRecord, checkUserRecord } from './validate.js'

/**
 * The Kinesis Producer Library in TypeScript: user records are aggregated per predicted shard,
 * collected into PutRecords requests, rate-limited per shard, retried with backoff until
 * `recordTtl`, and settled one promise per user record. Memory is bounded by
 * `maxOutstandingRecords` and `maxBufferedBytes`: beyond them `addUserRecord` waits.
 *
 * This class is the facade: options, lifecycle and admission. The steps a record goes through are
 * the Pipeline's (see pipeline.ts).
 */
export class KinesisProducer {
  readonly config: ResolvedProducerConfig
  readonly #resources: ProducerResources
  readonly #targets: StreamTargets
  readonly #hashKeys: HashKeyCache
  readonly #admission: Admission<PendingUserRecord>
  readonly #settlers = new PromiseSettlers()
  readonly #slabs = new DataSlabs()
  readonly #flushes = new FlushTracker()
  readonly #pipeline: Pipeline
  readonly #abort = new AbortController()
  readonly #tracing: ProducerTracing | undefined
  #closing: Promise<void> | undefined
  #destroyed = false

  constructor(options: KinesisProducerOptions = {}) {
    this.config = resolveProducerConfig(options)
    const { config } = this
    // Before any resource is opened: it throws when @opentelemetry/api is missing.
    this.#tracing = config.tracing ? new ProducerTracing() : undefined
    this.#resources = openResources(config)
    const { kinesis, metrics } = this.#resources
    // Every request in flight listens for destroy().
    setMaxListeners(config.maxConnections + 8, this.#abort.signal)
    this.#hashKeys = new HashKeyCache(config.hashKeyCacheSize)
    // Admitted calls start on a microtask: release() runs while a response is being settled.
    this.#admission = new Admission<PendingUserRecord>(config.maxOutstandingRecords, config.maxBufferedBytes, (user) =>
      queueMicrotask(() => {
        // Its buffering time and recordTtl count from admission, not from the wait for room.
        user.arrivedAt = performance.now()
        this.#start(user, user.arrivedAt)
      }),
    )
    this.#pipeline = new Pipeline(config, {
      kinesis,
      metrics,
      onSettled: (user) => {
        this.#admission.release(user.bytes)
        this.#flushes.settled(user.generation)
      },
      outstanding: () => this.#admission.records,
      flushGeneration: () => this.#flushes.generation,
      signal: this.#abort.signal,
      tracing: this.#tracing,
    })
    this.#targets = new StreamTargets(kinesis, config, (target, changed) => this.#pipeline.onShardMap(target, changed))
  }

  /**
   * Puts one user record. Resolves when Kinesis has it (with its shard, sequence number and every
   * attempt); rejects with UserRecordFailedError when it cannot be put, or at once with
   * InvalidArgumentError for bad input. Waits first while the producer is at its memory limits.
   */
  addUserRecord(record: UserRecord): Promise<UserRecordResult> {
    if (this.#closing !== undefined || this.#destroyed) return Promise.reject(new ClosedError('KinesisProducer'))
    let checked: CheckedRecord
    let target: PendingUserRecord['target']
    try {
      const tracing = this.#tracing
      if (tracing === undefined) {
        checked = checkUserRecord(record, this.config.maxUserRecordSize, this.config.aggregationEnabled)
      } else {
        const { headers, context } = tracing.inject(record.headers)
        checked = checkUserRecord(record, this.config.maxUserRecordSize, this.config.aggregationEnabled, headers)
        tracing.remember(checked.tags, context)
      }
      target = this.#targets.targetOf(record)
    } catch (error) {
      return Promise.reject(error)
    }
    const generation = this.#flushes.generation
    this.#flushes.added(generation)
    const admitted = this.#admission.tryAdmit(checked.bytes)
    const settlers = this.#settlers
    const promise = settlers.next()
    const now = performance.now()
    const user = pendingUserRecord(
      checked,
      record.headers,
      target,
      generation,
      this.#hashKeys,
      settlers,
      this.#slabs,
      now,
    )
    if (admitted) this.#start(user, now)
    else this.#admission.wait(user)
    return promise
  }

  /** Sends everything buffered now; resolves when every record added before the call has settled. */
  flush(): Promise<void> {
    const done = this.#flushes.flush()
    this.#pipeline.sendEverything()
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
    const oldest = this.#pipeline.oldestArrival()
    return Number.isFinite(oldest) ? Math.max(0, performance.now() - oldest) : 0
  }

  /** KPL-named metrics over the last `windowSeconds` (default: all that is kept, 5 minutes). */
  getMetrics(windowSeconds?: number): MetricSummary[] {
    this.#resources.metrics.emitReceived()
    return this.#resources.inMemory.snapshot(windowSeconds)
  }

  /** Flushes, then frees sockets and timers. Later calls of addUserRecord reject with ClosedError. */
  close(): Promise<void> {
    this.#closing ??= this.flush()
      .then(() => this.#release())
      .then(() => {
        // Records that failed before any request (no shard map, destroyed) were received too.
        this.#resources.metrics.emitReceived()
        return this.#resources.cloudWatch?.close()
      })
    return this.#closing
  }

  /** Stops now: every outstanding record fails with errorCode 'Destroyed'. */
  destroy(): void {
    if (this.#destroyed) return
    this.#destroyed = true
    this.#abort.abort(new ClosedError('KinesisProducer'))
    this.#pipeline.destroy()
    // Waiting callers get in and fail at once in #start.
    this.#admission.releaseAll()
    this.#release()
    void this.#resources.cloudWatch?.close()
  }

  #release(): void {
    this.#pipeline.release()
    this.#targets.close()
    if (this.#resources.ownsClient) this.#resources.kinesis.destroy()
  }

  /** An admitted record enters the pipeline. */
  #start(user: PendingUserRecord, now: number): void {
    this.#resources.metrics.received(user.target.label)
    if (this.#destroyed) this.#pipeline.settlement.failUser(user, DESTROYED)
    else this.#pipeline.route(user, now)
  }
}

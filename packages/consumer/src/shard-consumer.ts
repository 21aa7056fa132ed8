import { type EventHub, type Logger, type MetricsSink, backoffDelay, classifyError } from '@kinesis-ts/shared'
import { ShardCheckpointer } from './checkpointer.js'
import type { ResolvedConsumerConfig } from './config.js'
import type { ConsumerEvents } from './events.js'
import type { HeldLease } from './leases/held-lease.js'
import type { LeaseStore } from './leases/lease-store.js'
import { isAborted, pause } from './loop.js'
import { METRICS } from './metrics.js'
import { BatchProcessor } from './processing/batch-processor.js'
import { type HashRange, toClientRecords } from './records/client-records.js'
import { isSentinel, isShardEnd } from './records/sequence.js'
import type { ProcessorHost, RawBatch, RecordSourceFactory, ShardDescriptor, StartingPosition } from './seams.js'
import type { ShardSyncer } from './shard-sync/shard-syncer.js'
import type { ExtendedSequenceNumber, KinesisClientRecord, ShardRecordProcessor } from './types.js'

export interface ShardConsumerOptions {
  readonly config: ResolvedConsumerConfig
  readonly held: HeldLease
  readonly shard: ShardDescriptor
  readonly store: LeaseStore
  readonly sources: RecordSourceFactory
  readonly host: ProcessorHost
  readonly syncer: ShardSyncer
  readonly events: EventHub<ConsumerEvents>
  readonly logger: Logger
  readonly metrics: MetricsSink
}

export type ShardConsumerOutcome = 'shard-ended' | 'lease-lost' | 'shutdown' | 'stopped'

/** Where a shard consumer stands, for `KinesisConsumer.stats()`. */
export type ShardState = 'waiting-for-parents' | 'initializing' | 'processing' | 'ending' | 'stopping' | 'done'

export interface ShardProgress {
  readonly state: ShardState
  /** From the last batch read; undefined before the first. */
  readonly millisBehindLatest: number | undefined
  readonly recordsProcessed: number
  /**
   * When the shard last moved (Date.now() ms): a read answered (even empty), initialize or a
   * processRecords call returned.
   */
  readonly lastProgressAt: number
  /**
   * The last error met while reading, initializing or calling deadLetter, cleared by the next
   * progress.
   */
  readonly lastError: string | undefined
  /** Records of this shard handed to deadLetter (processingErrorPolicy's object form). */
  readonly recordsDeadLettered: number
  /** deadLetter calls that threw and were tried again; a shard waiting on them goes no further. */
  readonly deadLetterFailures: number
}

type ShardEnd = NonNullable<RawBatch['shardEnd']>

/**
 * One lease's lifecycle: wait for the parents to finish, initialize, then one batch at a time until
 * the shard ends, the lease is lost or shutdown is requested, and the matching processor callback.
 * A batch in flight always completes; only the waits between batches are cut short.
 */
export class ShardConsumer {
  readonly #options: ShardConsumerOptions
  readonly #stopReading = new AbortController()
  readonly #hardStop = new AbortController()
  readonly #signal: AbortSignal
  readonly #dimensions: { ShardId: string }
  readonly #batches: BatchProcessor
  #shutdownRequested = false
  #state: ShardState = 'waiting-for-parents'
  #millisBehindLatest: number | undefined
  #recordsProcessed = 0
  /** Monotonic ms of the last progress; the wall-clock copy is for stats only. */
  #lastProgress = performance.now()
  #lastProgressAt = Date.now()
  #lastError: string | undefined
  /** Time inside the processor is the application's, not a stall of the shard. */
  #inProcessor = false

  constructor(options: ShardConsumerOptions) {
    this.#options = options
    this.#signal = AbortSignal.any([this.#stopReading.signal, this.#hardStop.signal, options.held.lostSignal])
    this.#dimensions = { ShardId: options.shard.shardId }
    this.#batches = new BatchProcessor({
      shardId: options.shard.shardId,
      config: options.config,
      signal: this.#signal,
      events: options.events,
      logger: options.logger,
      metrics: options.metrics,
      onTrouble: (error) => this.#failed(error),
    })
  }

  get shardId(): string {
    return this.#options.shard.shardId
  }

  get progress(): ShardProgress {
    return {
      state: this.#state,
      millisBehindLatest: this.#millisBehindLatest,
      recordsProcessed: this.#recordsProcessed,
      lastProgressAt: this.#lastProgressAt,
      lastError: this.#lastError,
      recordsDeadLettered: this.#batches.recordsDeadLettered,
      deadLetterFailures: this.#batches.deadLetterFailures,
    }
  }

  /**
   * How long the shard has not moved while it should (initializing or reading); 0 while the
   * processor runs, while waiting for parents, and once the consumer is ending.
   */
  stalledForMillis(now = performance.now()): number {
    if (this.#inProcessor || (this.#state !== 'initializing' && this.#state !== 'processing')) return 0
    return Math.max(0, now - this.#lastProgress)
  }

  #progressed(): void {
    this.#lastProgress = performance.now()
    this.#lastProgressAt = Date.now()
    this.#lastError = undefined
  }

  #failed(error: unknown): void {
    this.#lastError = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
  }

  /** Graceful: finish the batch in flight, then shutdownRequested. */
  requestShutdown(): void {
    this.#shutdownRequested = true
    this.#stopReading.abort()
  }

  /** Hard: stop waiting for anything; no more processor callbacks. */
  abort(): void {
    this.#hardStop.abort()
  }

  async run(): Promise<ShardConsumerOutcome> {
    const { held, logger } = this.#options
    let processor: ShardRecordProcessor | undefined
    let checkpointer: ShardCheckpointer | undefined
    let ended = false
    try {
      if (await this.#waitForParents()) {
        this.#state = 'initializing'
        processor = this.#options.host.create(this.shardId)
        checkpointer = new ShardCheckpointer({ ...this.#options, workerId: this.#options.config.workerId })
        this.#progressed()
        const initialized = await this.#inApplication(() =>
          this.#retrying('initialize', () =>
            processor!.initialize({ shardId: this.shardId, extendedSequenceNumber: held.lease.checkpoint }),
          ),
        )
        if (initialized) ended = await this.#consume(processor, checkpointer)
      }
    } catch (error) {
      logger.error({ err: error, shardId: this.shardId }, 'shard consumer failed')
    }
    this.#state = 'stopping'
    const outcome = await this.#finish(processor, checkpointer, ended)
    this.#state = 'done'
    return outcome
  }

  async #finish(
    processor: ShardRecordProcessor | undefined,
    checkpointer: ShardCheckpointer | undefined,
    ended: boolean,
  ): Promise<ShardConsumerOutcome> {
    const { held } = this.#options
    if (ended) return 'shard-ended'
    if (this.#hardStop.signal.aborted) return 'stopped'
    if (held.lost) {
      checkpointer?.close('the lease was lost')
      await this.#callback('leaseLost', () => processor?.leaseLost({}))
      return 'lease-lost'
    }
    if (this.#shutdownRequested) {
      if (processor !== undefined && checkpointer !== undefined) {
        await this.#callback('shutdownRequested', () => processor.shutdownRequested({ checkpointer }))
      }
      checkpointer?.close('the worker shut down')
      return 'shutdown'
    }
    return 'stopped'
  }

  async #callback(name: string, call: () => unknown): Promise<void> {
    try {
      await call()
    } catch (error) {
      this.#options.logger.error({ err: error, shardId: this.shardId }, `${name} threw`)
    }
  }

  /** False when stopped while blocked: a child waits until every parent lease is at SHARD_END or gone. */
  async #waitForParents(): Promise<boolean> {
    const { held, store, config, logger } = this.#options
    const parents = [...held.lease.parentShardIds]
    while (parents.length > 0) {
      try {
        const leases = await Promise.all(parents.map((parent) => store.getLease(parent, this.#signal)))
        for (let i = parents.length - 1; i >= 0; i--) {
          const lease = leases[i]
          if (lease === undefined || isShardEnd(lease.checkpoint)) parents.splice(i, 1)
        }
        if (parents.length === 0) break
        logger.debug({ shardId: this.shardId, parents }, 'waiting for parent shards')
      } catch (error) {
        if (isAborted(error, this.#signal)) return false
        logger.warn({ err: error, shardId: this.shardId }, 'could not read parent leases')
      }
      if (!(await pause(config.parentShardPollIntervalMillis, this.#signal))) return false
    }
    return !this.#signal.aborted
  }

  /** Runs the batches; true when the shard ended and shardEnded checkpointed it. */
  async #consume(processor: ShardRecordProcessor, checkpointer: ShardCheckpointer): Promise<boolean> {
    const { sources, shard, held, events, config } = this.#options
    let after: ExtendedSequenceNumber = held.lease.checkpoint
    const source = sources.open(shard, startingPositionOf(after, config))
    this.#options.logger.debug({ shardId: this.shardId, from: after }, 'reading shard')
    this.#state = 'processing'
    events.emit('consumer.shard_started', () => ({ shardId: this.shardId, workerId: config.workerId }))
    const range = hashRangeOf(shard)
    // Reading stops the moment the consumer stops, loses the lease or is shut down, even while a batch
    // is still in processRecords: a processor that never returns must not keep a prefetch loop alive.
    let closing: Promise<void> | undefined
    const closeSource = () => {
      closing ??= source.close().catch((error: unknown) => {
        this.#options.logger.warn({ err: error, shardId: this.shardId }, 'closing the record source failed')
      })
      return closing
    }
    const onStop = () => void closeSource()
    this.#signal.addEventListener('abort', onStop, { once: true })
    try {
      for (let failures = 0; !this.#signal.aborted; ) {
        let batch: RawBatch
        try {
          batch = await source.next(this.#signal)
          failures = 0
          this.#progressed()
        } catch (error) {
          if (isAborted(error, this.#signal)) return false
          if (classifyError(error).code === 'ResourceNotFoundException') {
            // As the Java KCL: a shard the service no longer knows (trimmed past retention after a
            // reshard, a re-created stream) is at its end; its children, if any, come from ListShards.
            this.#options.logger.warn({ err: error, shardId: this.shardId }, 'shard not found: treating it as ended')
            return this.#endShard(processor, checkpointer, { childShards: undefined })
          }
          this.#failed(error)
          this.#options.logger.warn({ err: error, shardId: this.shardId }, 'reading the shard failed')
          if (!(await pause(this.#backoff(failures++), this.#signal))) return false
          continue
        }
        this.#millisBehindLatest = batch.millisBehindLatest
        this.#options.metrics.put(
          METRICS.millisBehindLatest,
          batch.millisBehindLatest,
          'Milliseconds',
          this.#dimensions,
        )
        const records = toClientRecords(batch.records, range, after)
        const last = records.at(-1)
        if (last !== undefined || config.callProcessRecordsEvenForEmptyRecordList) {
          await this.#process(processor, checkpointer, records, batch.millisBehindLatest)
        } else {
          // The Java KCL runs a ProcessTask for every fetch, an empty one included, and reports it.
          this.#batches.taskCompleted(records, 0)
        }
        if (last !== undefined)
          after = { sequenceNumber: last.sequenceNumber, subSequenceNumber: last.subSequenceNumber }
        if (batch.shardEnd !== undefined) return this.#endShard(processor, checkpointer, batch.shardEnd)
      }
      return false
    } finally {
      this.#signal.removeEventListener('abort', onStop)
      await closeSource()
    }
  }

  /**
   * A batch, retries, isolation and dead-letter calls included, is the application's time: the shard
   * is not stalled meanwhile.
   */
  async #process(
    processor: ShardRecordProcessor,
    checkpointer: ShardCheckpointer,
    records: KinesisClientRecord[],
    millisBehindLatest: number,
  ): Promise<void> {
    const outcome = await this.#inApplication(() =>
      this.#batches.process(processor, checkpointer, records, millisBehindLatest),
    )
    if (outcome === 'processed') {
      this.#recordsProcessed += records.length
      this.#options.held.recordDelivered(records.reduce((bytes, record) => bytes + record.data.byteLength, 0))
    }
  }

  async #inApplication<T>(call: () => Promise<T>): Promise<T> {
    this.#inProcessor = true
    try {
      return await call()
    } finally {
      this.#inProcessor = false
      this.#progressed()
    }
  }

  async #endShard(processor: ShardRecordProcessor, checkpointer: ShardCheckpointer, end: ShardEnd): Promise<boolean> {
    const { syncer, held, logger, events, config } = this.#options
    const created = await this.#retrying('child shard sync', async () => {
      const children = end.childShards ?? (await syncer.childShardsOf(this.shardId, this.#signal))
      await syncer.createChildLeases(this.shardId, children)
    })
    if (!created) return false
    this.#state = 'ending'
    checkpointer.markShardEnded()
    for (let attempt = 0; !this.#signal.aborted; attempt++) {
      await this.#callback('shardEnded', () => processor.shardEnded({ checkpointer }))
      if (isShardEnd(held.lease.checkpoint)) {
        events.emit('consumer.shard_ended', () => ({ shardId: this.shardId, workerId: config.workerId }))
        return true
      }
      if (held.lost) return false
      logger.error({ shardId: this.shardId }, 'shardEnded did not checkpoint; calling it again')
      if (!(await pause(this.#backoff(attempt), this.#signal))) return false
    }
    return false
  }

  /** Retries `task` with backoff until it succeeds (true) or the consumer stops (false). */
  async #retrying(what: string, task: () => unknown): Promise<boolean> {
    for (let attempt = 0; !this.#signal.aborted; attempt++) {
      try {
        await task()
        return true
      } catch (error) {
        if (isAborted(error, this.#signal)) return false
        this.#failed(error)
        this.#options.logger.error({ err: error, shardId: this.shardId, attempt }, `${what} failed; retrying`)
      }
      if (!(await pause(this.#backoff(attempt), this.#signal))) return false
    }
    return false
  }

  #backoff(attempt: number): number {
    const { config } = this.#options
    return backoffDelay(attempt, {
      baseMs: config.processingRetryBackoffBaseMillis,
      maxMs: config.processingRetryBackoffMaxMillis,
    })
  }
}

function hashRangeOf(shard: ShardDescriptor): HashRange | undefined {
  try {
    return { start: BigInt(shard.startingHashKey), end: BigInt(shard.endingHashKey) }
  } catch {
    return undefined
  }
}

/**
 * Where to read from a checkpoint. A sequence number restarts AT that record (the Java KCL's way):
 * sub-records of an aggregate after a mid-aggregate checkpoint are still to be delivered, and the
 * ones at or below it are filtered out.
 */
export function startingPositionOf(
  checkpoint: ExtendedSequenceNumber,
  config: ResolvedConsumerConfig,
): StartingPosition {
  const { sequenceNumber } = checkpoint
  if (!isSentinel(sequenceNumber)) return { type: 'AT_SEQUENCE_NUMBER', sequenceNumber }
  if (sequenceNumber === 'LATEST') return { type: 'LATEST' }
  if (sequenceNumber === 'AT_TIMESTAMP' && config.initialPosition.type === 'AT_TIMESTAMP') {
    return { type: 'AT_TIMESTAMP', timestamp: config.initialPosition.timestamp }
  }
  return { type: 'TRIM_HORIZON' }
}

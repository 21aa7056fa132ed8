import { type EventHub, type Logger, type MetricsSink, backoffDelay } from '@kinesis-ts/shared'
import type { ShardCheckpointer } from '../checkpointer.js'
import type { ResolvedConsumerConfig, ResolvedDeadLetterPolicy } from '../config-types.js'
import type { ConsumerEvents } from '../events.js'
import { pause } from '../loop.js'
import { METRICS } from '../metrics.js'
import { dataBytes } from '../records/client-records.js'
import { isSettlingProcessor } from '../seams.js'
import { ConsumerTracing } from '../tracing/consumer-tracing.js'
import type { KinesisClientRecord, ProcessRecordsInput, ShardRecordProcessor } from '../types.js'
import { isDeadLetterPolicy } from './error-policy.js'
import { DeadLetterIsolation, type IsolationHooks } from './isolation.js'

export type BatchOutcome = 'processed' | 'skipped' | 'abandoned'

export interface BatchProcessorOptions {
  readonly shardId: string
  readonly config: ResolvedConsumerConfig
  /** Aborted when the shard stops: backoff pauses end and a failing batch is abandoned. */
  readonly signal: AbortSignal
  readonly events: EventHub<ConsumerEvents>
  readonly logger: Logger
  readonly metrics: MetricsSink
  /** A failure the shard is waiting on (a deadLetter that threw), for the shard's lastError. */
  readonly onTrouble: (error: unknown) => void
}

/**
 * One batch through processRecords under processingErrorPolicy: 'retry' redelivers it until it
 * succeeds, 'skip' gives up after one failure (the Java KCL), the object form isolates the records that
 * fail and dead-letters them. Publishes the ProcessTask metrics as the Java KCL does.
 */
export class BatchProcessor {
  readonly #options: BatchProcessorOptions
  readonly #dimensions: { ShardId: string }
  readonly #tracing: ConsumerTracing | undefined
  #recordsDeadLettered = 0
  #deadLetterFailures = 0

  constructor(options: BatchProcessorOptions) {
    this.#options = options
    this.#dimensions = { ShardId: options.shardId }
    const { config } = options
    this.#tracing = config.tracing ? new ConsumerTracing(config.streamName, config.applicationName) : undefined
  }

  /** Records handed to deadLetter by this shard consumer. */
  get recordsDeadLettered(): number {
    return this.#recordsDeadLettered
  }

  /** deadLetter calls that threw (each was tried again). */
  get deadLetterFailures(): number {
    return this.#deadLetterFailures
  }

  /**
   * 'processed' (poison records dead-lettered count as processed), 'skipped' (under 'skip'), or
   * 'abandoned' when the shard stopped first: its records are then not checkpointable.
   */
  async process(
    processor: ShardRecordProcessor,
    checkpointer: ShardCheckpointer,
    records: KinesisClientRecord[],
    millisBehindLatest: number,
  ): Promise<BatchOutcome> {
    const last = records.at(-1)
    if (last !== undefined) checkpointer.setLargestPermitted(last)
    const policy = this.#options.config.processingErrorPolicy
    const outcome = isDeadLetterPolicy(policy)
      ? await this.#settle(policy, processor, checkpointer, records, millisBehindLatest)
      : await this.#retryOrSkip(policy, processor, checkpointer, records, millisBehindLatest)
    if (outcome === 'abandoned') checkpointer.setLargestPermitted(checkpointer.lastCheckpoint)
    return outcome
  }

  /** A batch done with (processed or skipped): its ProcessTask metrics, as the Java KCL publishes them. */
  taskCompleted(records: readonly KinesisClientRecord[], elapsedMillis: number): void {
    const { metrics } = this.#options
    metrics.put(METRICS.processTaskSuccess, 1, 'Count', this.#dimensions)
    metrics.put(METRICS.processTaskTime, elapsedMillis, 'Milliseconds', this.#dimensions)
    metrics.put(METRICS.recordsProcessed, records.length, 'Count', this.#dimensions)
    metrics.put(METRICS.dataBytesProcessed, dataBytes(records), 'Bytes', this.#dimensions)
  }

  async #retryOrSkip(
    policy: 'retry' | 'skip',
    processor: ShardRecordProcessor,
    checkpointer: ShardCheckpointer,
    records: KinesisClientRecord[],
    millisBehindLatest: number,
  ): Promise<BatchOutcome> {
    const { logger, events, metrics, shardId } = this.#options
    for (let attempt = 0; ; attempt++) {
      const started = performance.now()
      try {
        await this.#call(processor, { records, checkpointer, millisBehindLatest })
        this.taskCompleted(records, performance.now() - started)
        return 'processed'
      } catch (error) {
        events.emit('consumer.processing_error', () => ({ shardId, error, policy, attempt }))
        if (policy === 'skip') {
          logger.error({ err: error, shardId, records: records.length }, 'processRecords threw; batch skipped')
          // The Java KCL's ProcessTask catches the processor's exception, skips the batch and
          // reports the task as a success; 'skip' is that behaviour, metrics included.
          this.taskCompleted(records, performance.now() - started)
          return 'skipped'
        }
        // 'retry': this attempt did not complete the task, the batch comes again.
        this.#attemptFailed(performance.now() - started)
        logger.error({ err: error, shardId, attempt }, 'processRecords threw; redelivering the batch')
        if (!(await this.#pause(attempt))) return 'abandoned'
        metrics.put(METRICS.processingRetries, 1, 'Count', this.#dimensions)
      }
    }
  }

  async #settle(
    policy: ResolvedDeadLetterPolicy,
    processor: ShardRecordProcessor,
    checkpointer: ShardCheckpointer,
    records: KinesisClientRecord[],
    millisBehindLatest: number,
  ): Promise<BatchOutcome> {
    const isolation = new DeadLetterIsolation(policy, this.#hooks(checkpointer))
    const started = performance.now()
    const input = { records, checkpointer, millisBehindLatest }
    const settled = isSettlingProcessor(processor)
      ? await (this.#tracing === undefined
          ? processor.settleRecords(input, isolation)
          : this.#tracing.process(this.#options.shardId, records, () => processor.settleRecords(input, isolation)))
      : await isolation.settle(records, async (part) => {
          // A bare checkpoint() names the last record of this piece: never a record still being isolated.
          const last = part.at(-1)
          if (last !== undefined) checkpointer.setLargestPermitted(last)
          await this.#call(processor, { records: part, checkpointer, millisBehindLatest })
        })
    if (!settled) return 'abandoned'
    // Every record is processed or dead-lettered: the next checkpoint may pass them all.
    const last = records.at(-1)
    if (last !== undefined) checkpointer.setLargestPermitted(last)
    this.taskCompleted(records, performance.now() - started)
    return 'processed'
  }

  #hooks(checkpointer: ShardCheckpointer): IsolationHooks {
    const { shardId, signal, logger, events, metrics, onTrouble } = this.#options
    const dimensions = this.#dimensions
    return {
      shardId,
      stopped: () => signal.aborted,
      pause: (attempt) => this.#pause(attempt),
      checkpoint: () => checkpointer.lastCheckpoint,
      failed: (error, attempt, records, elapsedMillis) => {
        events.emit('consumer.processing_error', () => ({ shardId, error, policy: 'dead-letter', attempt }))
        this.#attemptFailed(elapsedMillis)
        logger.warn({ err: error, shardId, attempt, records: records.length }, 'processRecords threw')
      },
      retried: () => metrics.put(METRICS.processingRetries, 1, 'Count', dimensions),
      bisected: (records, pieces) => {
        metrics.put(METRICS.processingBisections, 1, 'Count', dimensions)
        logger.info({ shardId, records: records.length, pieces }, 'isolating the records that fail')
      },
      deadLettered: ({ record, attempts, error }) => {
        this.#recordsDeadLettered++
        metrics.put(METRICS.recordsDeadLettered, 1, 'Count', dimensions)
        const { partitionKey, sequenceNumber, subSequenceNumber } = record
        logger.warn(
          { err: error, shardId, partitionKey, sequenceNumber, subSequenceNumber, attempts },
          'record dead-lettered',
        )
        events.emit('consumer.record_dead_lettered', () => ({
          shardId,
          partitionKey,
          sequenceNumber,
          subSequenceNumber,
          attempts,
          error,
        }))
      },
      deadLetterFailed: ({ record }, error, attempt) => {
        this.#deadLetterFailures++
        onTrouble(error)
        const { sequenceNumber, subSequenceNumber } = record
        logger.error(
          { err: error, shardId, sequenceNumber, subSequenceNumber, attempt },
          'deadLetter threw; calling it again',
        )
        events.emit('consumer.dead_letter_failed', () => ({
          shardId,
          sequenceNumber,
          subSequenceNumber,
          attempt,
          error,
        }))
      },
    }
  }

  /** One processRecords call, in its process span when tracing is on. */
  #call(processor: ShardRecordProcessor, input: ProcessRecordsInput): Promise<void> | void {
    const tracing = this.#tracing
    if (tracing === undefined) return processor.processRecords(input)
    return tracing.process(this.#options.shardId, input.records, async () => processor.processRecords(input))
  }

  #attemptFailed(elapsedMillis: number): void {
    const { metrics } = this.#options
    metrics.put(METRICS.processTaskSuccess, 0, 'Count', this.#dimensions)
    metrics.put(METRICS.processTaskTime, elapsedMillis, 'Milliseconds', this.#dimensions)
  }

  #pause(attempt: number): Promise<boolean> {
    const { config, signal } = this.#options
    const delay = backoffDelay(attempt, {
      baseMs: config.processingRetryBackoffBaseMillis,
      maxMs: config.processingRetryBackoffMaxMillis,
    })
    return pause(delay, signal)
  }
}

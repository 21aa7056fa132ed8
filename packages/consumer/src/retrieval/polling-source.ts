import {
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type GetShardIteratorCommandInput,
  type KinesisClient,
} from '@aws-sdk/client-kinesis'
import {
  type Logger,
  type MetricsSink,
  backoffDelay,
  classifyError,
  toAwsCallError,
  withDeadline,
} from '@kinesis-ts/shared'
import type { ResolvedPollingRetrieval } from '../config.js'
import { isAborted, pause } from '../loop.js'
import { METRICS } from '../metrics.js'
import type { RawBatch, RecordSource, ShardDescriptor, StartingPosition } from '../seams.js'
import { streamParameter } from '../stream-ref.js'
import { BatchQueue } from './batch-queue.js'
import { childShardsOf, iteratorPosition, rawBatchOf } from './raw-records.js'

export interface PollingSourceContext {
  readonly kinesis: KinesisClient
  readonly options: ResolvedPollingRetrieval
  /** Bound on each GetRecords / GetShardIterator call (0: none). */
  readonly requestTimeoutMillis?: number
  readonly logger: Logger
  readonly metrics: MetricsSink
}

function toBatch(output: GetRecordsCommandOutput): { batch: RawBatch; bytes: number } {
  const batch = rawBatchOf(output)
  if (output.NextShardIterator === undefined || output.NextShardIterator === null) {
    batch.shardEnd = { childShards: childShardsOf(output.ChildShards) }
  }
  let bytes = 0
  for (const record of batch.records) bytes += record.data.byteLength
  return { batch, bytes }
}

/**
 * GetRecords for one shard, read ahead of the processor into a bounded queue. Calls are spaced by
 * idleTimeBetweenReadsInMillis; throttling and transient faults back off with jitter; an expired
 * iterator is replaced by one AFTER the last sequence number read, so nothing is skipped or repeated.
 */
export class PollingRecordSource implements RecordSource {
  readonly #context: PollingSourceContext
  readonly #shard: ShardDescriptor
  readonly #start: StartingPosition
  readonly #queue: BatchQueue<RawBatch>
  readonly #closed = new AbortController()
  #reader: Promise<void> | undefined
  #iterator: string | undefined
  #lastSequenceNumber: string | undefined
  #lastCallAt = Number.NEGATIVE_INFINITY

  constructor(context: PollingSourceContext, shard: ShardDescriptor, start: StartingPosition) {
    this.#context = context
    this.#shard = shard
    this.#start = start
    this.#queue = new BatchQueue(context.options.maxPendingBatches, context.options.maxPendingBytes)
  }

  next(signal: AbortSignal): Promise<RawBatch> {
    this.#reader ??= this.#read()
    return this.#queue.take(signal)
  }

  async close(): Promise<void> {
    this.#closed.abort()
    await this.#reader
  }

  async #read(): Promise<void> {
    const signal = this.#closed.signal
    const { options, metrics, logger } = this.#context
    let failures = 0
    while (!signal.aborted) {
      try {
        await this.#queue.waitForSpace(signal)
        if (!(await pause(options.idleTimeBetweenReadsInMillis - (performance.now() - this.#lastCallAt), signal)))
          return
        const { batch, bytes } = await this.#getRecords(signal)
        failures = 0
        this.#queue.push(batch, bytes)
        if (batch.shardEnd !== undefined) return
      } catch (error) {
        if (isAborted(error, signal)) return
        const { code, retriable, throttled } = classifyError(error)
        if (code === 'ExpiredIteratorException') {
          logger.info({ shardId: this.#shard.shardId, after: this.#lastSequenceNumber }, 'shard iterator expired')
          this.#iterator = undefined
          continue
        }
        if (throttled) metrics.put(METRICS.getRecordsThrottled, 1, 'Count', { ShardId: this.#shard.shardId })
        if (!retriable) {
          // The shard loop decides what a terminal error means; reading resumes from where it stood.
          this.#iterator = undefined
          this.#queue.pushError(toAwsCallError('GetRecords', error))
        } else {
          logger.debug({ shardId: this.#shard.shardId, code }, 'GetRecords failed; backing off')
        }
        const delay = backoffDelay(failures++, { baseMs: options.backoffBaseMillis, maxMs: options.backoffMaxMillis })
        if (!(await pause(delay, signal))) return
      }
    }
  }

  async #getRecords(signal: AbortSignal): Promise<{ batch: RawBatch; bytes: number }> {
    const { kinesis, options, metrics } = this.#context
    this.#iterator ??= await this.#newIterator(signal)
    this.#lastCallAt = performance.now()
    let output: GetRecordsCommandOutput
    try {
      const command = new GetRecordsCommand({ ShardIterator: this.#iterator, Limit: options.maxRecords })
      output = await withDeadline('GetRecords', this.#context.requestTimeoutMillis ?? 0, signal, (abortSignal) =>
        kinesis.send(command, { abortSignal }),
      )
    } catch (error) {
      // As the Java KCL: every call reports Success, 0 when it failed (a call we abandoned did not fail).
      if (!isAborted(error, signal)) metrics.put(METRICS.getRecordsSuccess, 0, 'Count')
      throw error
    } finally {
      metrics.put(METRICS.getRecordsTime, performance.now() - this.#lastCallAt, 'Milliseconds')
    }
    metrics.put(METRICS.getRecordsSuccess, 1, 'Count')
    // Mapped before the position moves: a refused reply is read again, not skipped.
    const mapped = toBatch(output)
    const last = mapped.batch.records.at(-1)?.sequenceNumber
    if (last !== undefined) this.#lastSequenceNumber = last
    this.#iterator = output.NextShardIterator ?? undefined
    return mapped
  }

  async #newIterator(signal: AbortSignal): Promise<string> {
    const input: GetShardIteratorCommandInput = {
      ...streamParameter(this.#shard),
      ShardId: this.#shard.shardId,
      ...iteratorPosition(
        this.#lastSequenceNumber === undefined
          ? this.#start
          : { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: this.#lastSequenceNumber },
      ),
    }
    const command = new GetShardIteratorCommand(input)
    const { ShardIterator } = await withDeadline(
      'GetShardIterator',
      this.#context.requestTimeoutMillis ?? 0,
      signal,
      (abortSignal) => this.#context.kinesis.send(command, { abortSignal }),
    )
    if (ShardIterator === undefined) throw new Error(`GetShardIterator returned no iterator for ${this.#shard.shardId}`)
    return ShardIterator
  }
}

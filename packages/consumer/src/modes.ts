import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import type { KinesisClient } from '@aws-sdk/client-kinesis'
import { ConfigurationError, type Logger, type MetricsSink } from '@kinesis-ts/shared'
import type { ResolvedConsumerConfig, ResolvedFanOutRetrieval, ResolvedPollingRetrieval } from './config.js'
import { createFanOutSourceFactory } from './fanout/index.js'
import { createInThreadHost } from './processing/in-thread-host.js'
import { createPollingSourceFactory } from './retrieval/polling-factory.js'
import type { ProcessorHost, RecordSourceFactory } from './seams.js'
import { createWorkerThreadHost } from './workers/index.js'

/** What a retrieval or processing mode gets to build itself. */
export interface ModeContext {
  readonly kinesis: KinesisClient
  readonly dynamodb: DynamoDBClient
  readonly logger: Logger
  readonly metrics: MetricsSink
}

export type RetrievalMode = ResolvedConsumerConfig['retrieval']['mode']

/** The retrieval modes, by `retrieval.mode`. */
const RETRIEVAL_MODES: {
  polling: (
    config: ResolvedConsumerConfig,
    retrieval: ResolvedPollingRetrieval,
    context: ModeContext,
  ) => RecordSourceFactory
  fanout: (
    config: ResolvedConsumerConfig,
    retrieval: ResolvedFanOutRetrieval,
    context: ModeContext,
  ) => RecordSourceFactory
} = {
  polling: (config, retrieval, context) =>
    createPollingSourceFactory({
      kinesis: context.kinesis,
      options: retrieval,
      requestTimeoutMillis: config.kinesisRequestTimeoutMillis,
      logger: context.logger,
      metrics: context.metrics,
    }),
  fanout: (config, retrieval, context) =>
    createFanOutSourceFactory({
      // Subscriptions reach the service as this client does, the user's or the consumer's own.
      kinesis: context.kinesis,
      streamName: config.streamName,
      streamARN: config.streamARN,
      applicationName: config.applicationName,
      consumerName: retrieval.consumerName,
      consumerARN: retrieval.consumerARN,
      httpVersion: retrieval.httpVersion,
      stallTimeoutMs: retrieval.stallTimeoutMs,
      closedShardCheckIntervalMs: retrieval.closedShardCheckIntervalMs,
      logger: context.logger,
      metrics: context.metrics,
    }),
}

/** Processing in worker threads (`processorModule`). */
const WORKER_THREAD_HOST = (
  config: ResolvedConsumerConfig,
  processorModule: URL | string,
  context: ModeContext,
): ProcessorHost =>
  createWorkerThreadHost({
    processorModule,
    // 0 = one thread per available core.
    workerThreads: config.workerThreads === 0 ? undefined : config.workerThreads,
    lanesPerShard: config.lanesPerShard,
    // Under a dead-letter policy a lane whose thread dies in processRecords counts as a failed try (the
    // shard consumer's isolation decides); other calls of a crashed lane are redelivered as under 'retry'.
    processingErrorPolicy: typeof config.processingErrorPolicy === 'object' ? 'retry' : config.processingErrorPolicy,
    logger: context.logger,
  })

export function createRecordSourceFactory(config: ResolvedConsumerConfig, context: ModeContext): RecordSourceFactory {
  const retrieval = config.retrieval
  if (retrieval.mode === 'polling') return RETRIEVAL_MODES.polling(config, retrieval, context)
  return RETRIEVAL_MODES.fanout(config, retrieval, context)
}

export function createProcessorHost(config: ResolvedConsumerConfig, context: ModeContext): ProcessorHost {
  if (config.processorFactory !== undefined) return createInThreadHost(config.processorFactory)
  if (config.processorModule === undefined) {
    throw new ConfigurationError('processorFactory', 'a processorFactory or a processorModule', undefined)
  }
  return WORKER_THREAD_HOST(config, config.processorModule, context)
}

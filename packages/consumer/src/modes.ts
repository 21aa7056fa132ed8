import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import type { KinesisClient } from '@aws-sdk/client-kinesis'
import { ConfigurationError, type Logger, type MetricsSink } from '@kinesis-ts/shared'
import type { ResolvedConsumerConfig, ResolvedFanOutRetrieval, ResolvedPollingRetrieval } from './config.js'
import { createInThreadHost } from './processing/in-thread-host.js'
import { createPollingSourceFactory } from './retrieval/polling-factory.js'
import type { ProcessorHost, RecordSourceFactory } from './seams.js'

/** What a retrieval or processing mode gets to build itself. */
export interface ModeContext {
  readonly kinesis: KinesisClient
  readonly dynamodb: DynamoDBClient
  readonly logger: Logger
  readonly metrics: MetricsSink
}

export type RetrievalMode = ResolvedConsumerConfig['retrieval']['mode']

/**
 * The retrieval modes this build has, by `retrieval.mode`. Fan-out plugs in here:
 * `fanout: (config, retrieval, context) => createFanOutSourceFactory(...)`.
 */
const RETRIEVAL_MODES: {
  polling: (
    config: ResolvedConsumerConfig,
    retrieval: ResolvedPollingRetrieval,
    context: ModeContext,
  ) => RecordSourceFactory
  fanout?: (
    config: ResolvedConsumerConfig,
    retrieval: ResolvedFanOutRetrieval,
    context: ModeContext,
  ) => RecordSourceFactory
} = {
  polling: (_config, retrieval, context) =>
    createPollingSourceFactory({
      kinesis: context.kinesis,
      options: retrieval,
      logger: context.logger,
      metrics: context.metrics,
    }),
}

/**
 * Processing in worker threads (`processorModule`) plugs in here:
 * `(config, processorModule, context) => createWorkerThreadHost(...)`.
 */
const WORKER_THREAD_HOST:
  | ((config: ResolvedConsumerConfig, processorModule: URL | string, context: ModeContext) => ProcessorHost)
  | undefined = undefined

export function createRecordSourceFactory(config: ResolvedConsumerConfig, context: ModeContext): RecordSourceFactory {
  const retrieval = config.retrieval
  if (retrieval.mode === 'polling') return RETRIEVAL_MODES.polling(config, retrieval, context)
  const fanout = RETRIEVAL_MODES.fanout
  if (fanout === undefined) {
    throw new ConfigurationError(
      'retrieval.mode',
      "'polling' (fan-out retrieval is not available in this build)",
      'fanout',
    )
  }
  return fanout(config, retrieval, context)
}

export function createProcessorHost(config: ResolvedConsumerConfig, context: ModeContext): ProcessorHost {
  if (config.processorFactory !== undefined) return createInThreadHost(config.processorFactory)
  const host = WORKER_THREAD_HOST as typeof WORKER_THREAD_HOST
  if (host === undefined || config.processorModule === undefined) {
    throw new ConfigurationError(
      'processorModule',
      'processorFactory (worker-thread processing is not available in this build)',
      String(config.processorModule),
    )
  }
  return host(config, config.processorModule, context)
}

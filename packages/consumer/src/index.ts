export { KinesisConsumer, type ConsumerStats } from './kinesis-consumer.js'
export type { ShardStats } from './scheduler.js'
export type { ShardProgress, ShardState } from './shard-consumer.js'
export {
  resolveConsumerConfig,
  type ClientVersionConfig,
  type DeadLetterPolicy,
  type FanOutRetrievalOptions,
  type InitialPosition,
  type KinesisConsumerOptions,
  type PollingRetrievalOptions,
  type ProcessingErrorPolicy,
  type ResolvedConsumerConfig,
  type ResolvedFanOutRetrieval,
  type ResolvedInitialPosition,
  type ResolvedKcl3Options,
  type ResolvedPollingRetrieval,
  type RetrievalOptions,
} from './config.js'
export { CONSUMER_DEFAULTS } from './defaults.js'
export { recordContext } from './tracing/consumer-tracing.js'
export type { ConsumerEvents } from './events.js'
export { METRICS as CONSUMER_METRICS } from './metrics.js'
export type * from './types.js'
// Every error a consumer's user can receive: from checkpoints, worker threads, fan-out registration,
// and the shared ones its constructor, start() and shutdown() reject with.
export { InvalidCheckpointError, ShutdownError } from './errors.js'
export { StreamConsumerError } from './fanout/register-consumer.js'
export { WorkerCrashedError, WorkerProcessingError } from './workers/lane-channel.js'
export type { WireError } from './workers/wire.js'
export {
  AbortedError,
  AwsCallError,
  ClosedError,
  ConfigurationError,
  KinesisTsError,
  cloudWatchMetrics,
  type CloudWatchMetricsOptions,
  type MetricsSink,
  type TraceContext,
} from '@kinesis-ts/shared'
export const PACKAGE_NAME = '@kinesis-ts/consumer'

export { KinesisConsumer, type ConsumerStats } from './kinesis-consumer.js'
export type { ShardStats } from './scheduler.js'
export type { ShardProgress, ShardState } from './shard-consumer.js'
export {
  resolveConsumerConfig,
  type FanOutRetrievalOptions,
  type InitialPosition,
  type KinesisConsumerOptions,
  type PollingRetrievalOptions,
  type ProcessingErrorPolicy,
  type ResolvedConsumerConfig,
  type ResolvedFanOutRetrieval,
  type ResolvedPollingRetrieval,
  type RetrievalOptions,
} from './config.js'
export { CONSUMER_DEFAULTS } from './defaults.js'
export { InvalidCheckpointError, ShutdownError } from './errors.js'
export type { ConsumerEvents } from './events.js'
export { METRICS as CONSUMER_METRICS } from './metrics.js'
export { createProcessorHost, createRecordSourceFactory, type ModeContext, type RetrievalMode } from './modes.js'
export { LEASE_ATTRIBUTES, leaseFromItem, leaseToItem } from './leases/lease-serializer.js'
export type { Lease } from './leases/lease.js'
export type {
  ChildShardInfo,
  ProcessorHost,
  RawBatch,
  RawKinesisRecord,
  RecordSource,
  RecordSourceFactory,
  ShardDescriptor,
  StartingPosition,
} from './seams.js'
export type * from './types.js'
export { cloudWatchMetrics, type CloudWatchMetricsOptions, type MetricsSink } from '@kinesis-ts/shared'
export const PACKAGE_NAME = '@kinesis-ts/consumer'

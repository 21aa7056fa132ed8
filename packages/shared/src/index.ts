export * from './codec/index.js'
export * from './errors.js'
export * from './retry/index.js'
export { EventHub } from './events.js'
export { withDeadline } from './deadline.js'
export {
  compareHashKeyParts,
  formatHashKey,
  hashKeyFromParts,
  hashKeyOf,
  hashKeyParts,
  parseExplicitHashKey,
  partitionKeyHashOf,
  partitionKeyLength,
  validatePartitionKey,
  type HashKeyParts,
  type PartitionKeyHash,
} from './hash-key.js'
export { KinesisLimits, MAX_HASH_KEY } from './limits.js'
export { listAllShards, type ListShardsRequest } from './list-shards.js'
export { childLogger, consoleLogger, silentLogger, type LogFn, type LogLevel, type Logger } from './logger.js'
export {
  InMemoryMetrics,
  fanOutMetrics,
  isolatedMetrics,
  noopMetrics,
  type InMemoryMetricsOptions,
  type MetricDimensions,
  type MetricSummary,
  type MetricUnit,
  type MetricsSink,
} from './metrics.js'
export { ShardMap, type HashKeyGap, type ShardDescription, type ShardRange } from './shard-map.js'
export {
  createKinesisClient,
  kinesisClientFrom,
  type AwsCredentials,
  type ClientOptions,
  type OwnedClient,
} from './clients.js'
export { HashKeyCache, PartitionKeyEntry } from './hash-key-cache.js'
export {
  cloudWatchMetrics,
  cloudWatchSink,
  type CloudWatchMetrics,
  type CloudWatchMetricsOptions,
  type CloudWatchOptions,
  type PutMetricDataInput,
} from './cloudwatch-metrics.js'
export {
  booleanOption,
  durationOption,
  functionOption,
  integerOption,
  notBelow,
  numberOption,
  type NumberRange,
  oneOf,
  requiredIntegerOption,
  requiredStringOption,
  stringOption,
  type StringRule,
} from './validate-options.js'
export {
  KINESIS_MESSAGING_SYSTEM,
  MESSAGING_ATTRIBUTES,
  TRACING_LINK_LIMIT,
  linksTo,
  loadTracingApi,
  type TraceAttributes,
  type TraceContext,
  type TraceSpan,
  type TraceSpanContext,
  type TraceSpanOptions,
  type TracingApi,
} from './tracing.js'

export { KinesisProducer } from './kinesis-producer.js'
export { type KinesisProducerOptions, type ResolvedProducerConfig, resolveProducerConfig } from './config.js'
export { PRODUCER_DEFAULTS } from './defaults.js'
export { PRODUCER_METRICS, PRODUCER_METRICS_NAMESPACE } from './metrics.js'
export {
  deadLetterToStream,
  parseDeadLetterEnvelope,
  originalData,
  type DeadLetterToStreamOptions,
  type DeadLetterEnvelope,
  type DeadLetterSource,
} from './dead-letter-stream.js'
export type { Attempt, FailedUserRecord, UserRecord, UserRecordResult } from './types.js'
// Every error a producer's user can receive: a failed record, and the shared ones its constructor and
// calls throw (bad options, a bad record, a closed producer).
export { UserRecordFailedError } from './errors.js'
export {
  ClosedError,
  ConfigurationError,
  InvalidArgumentError,
  KinesisTsError,
  cloudWatchMetrics,
  type CloudWatchMetricsOptions,
  type MetricSummary,
  type MetricsSink,
} from '@kinesis-ts/shared'
export const PACKAGE_NAME = '@kinesis-ts/producer'

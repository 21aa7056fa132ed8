import type { KinesisClient } from '@aws-sdk/client-kinesis'
import {
  type AwsCredentials,
  type CloudWatchOptions,
  ConfigurationError,
  type Logger,
  type MetricsSink,
  booleanOption,
  durationOption,
  integerOption,
  noopMetrics,
  notBelow,
  silentLogger,
  stringOption,
} from '@kinesis-ts/shared'
import { PRODUCER_DEFAULTS as D, PRODUCER_LIMITS as L } from './defaults.js'

export interface KinesisProducerOptions {
  /** The default stream of records that name none. */
  streamName?: string
  streamARN?: string
  region?: string
  endpoint?: string
  credentials?: AwsCredentials
  /** Your own client; then region/endpoint/credentials/maxConnections do not apply, and close() leaves it open. */
  kinesisClient?: KinesisClient
  aggregationEnabled?: boolean
  aggregationMaxCount?: number
  aggregationMaxSize?: number
  collectionMaxCount?: number
  collectionMaxSize?: number
  recordMaxBufferedTime?: number
  recordTtl?: number
  rateLimit?: number
  failIfThrottled?: boolean
  /** Per-key order into Kinesis (default true); false trades it for throughput, as the KPL does. */
  preserveOrder?: boolean
  maxConnections?: number
  requestTimeout?: number
  maxUserRecordSize?: number
  maxOutstandingRecords?: number
  maxBufferedBytes?: number
  shardMapRefreshIntervalMillis?: number
  retryBackoffBaseMillis?: number
  retryBackoffMaxMillis?: number
  hashKeyCacheSize?: number
  logger?: Logger
  /**
   * OpenTelemetry tracing through the optional peer dependency `@opentelemetry/api` (off by default):
   * the active context goes into each record's headers, and each PutRecords request is a `send` span
   * linked to the contexts of its records.
   */
  tracing?: boolean
  /** Where KPL-named metrics go besides getMetrics(). */
  metrics?: MetricsSink
  /**
   * Publish the metrics to CloudWatch (namespace `KinesisProducerLibrary` unless given), through the
   * optional peer dependency `@aws-sdk/client-cloudwatch`. Off unless set.
   */
  cloudWatch?: CloudWatchOptions
}

export interface ResolvedProducerConfig {
  readonly streamName: string | undefined
  readonly streamARN: string | undefined
  readonly region: string | undefined
  readonly endpoint: string | undefined
  readonly credentials: AwsCredentials | undefined
  readonly kinesisClient: KinesisClient | undefined
  readonly aggregationEnabled: boolean
  readonly aggregationMaxCount: number
  readonly aggregationMaxSize: number
  readonly collectionMaxCount: number
  readonly collectionMaxSize: number
  readonly recordMaxBufferedTime: number
  readonly recordTtl: number
  readonly rateLimit: number
  readonly failIfThrottled: boolean
  readonly preserveOrder: boolean
  readonly maxConnections: number
  readonly requestTimeout: number
  readonly maxUserRecordSize: number
  readonly maxOutstandingRecords: number
  readonly maxBufferedBytes: number
  readonly shardMapRefreshIntervalMillis: number
  readonly retryBackoffBaseMillis: number
  readonly retryBackoffMaxMillis: number
  readonly hashKeyCacheSize: number
  readonly logger: Logger
  readonly tracing: boolean
  readonly cloudWatch: CloudWatchOptions | undefined
  readonly metrics: MetricsSink
}

/** Checks every option and fills in the KPL defaults; throws ConfigurationError naming the option. */
export function resolveProducerConfig(options: KinesisProducerOptions = {}): ResolvedProducerConfig {
  if (typeof options !== 'object' || options === null) throw new ConfigurationError('options', 'an object', options)
  const streamName = stringOption('streamName', options.streamName)
  const streamARN = stringOption('streamARN', options.streamARN)
  if (streamName !== undefined && streamARN !== undefined) {
    throw new ConfigurationError('streamARN', 'either streamName or streamARN, not both', streamARN)
  }
  const day = 86_400_000
  const maxUserRecordSize = integerOption(
    'maxUserRecordSize',
    options.maxUserRecordSize,
    D.maxUserRecordSize,
    1,
    L.maxRecordBytesRaised,
  )
  const config: ResolvedProducerConfig = {
    streamName,
    streamARN,
    region: stringOption('region', options.region),
    endpoint: stringOption('endpoint', options.endpoint),
    credentials: options.credentials,
    kinesisClient: options.kinesisClient,
    aggregationEnabled: booleanOption('aggregationEnabled', options.aggregationEnabled, D.aggregationEnabled),
    aggregationMaxCount: integerOption(
      'aggregationMaxCount',
      options.aggregationMaxCount,
      D.aggregationMaxCount,
      1,
      D.aggregationMaxCount,
    ),
    aggregationMaxSize: integerOption(
      'aggregationMaxSize',
      options.aggregationMaxSize,
      D.aggregationMaxSize,
      64,
      L.maxAggregateBytes,
    ),
    collectionMaxCount: integerOption(
      'collectionMaxCount',
      options.collectionMaxCount,
      D.collectionMaxCount,
      1,
      L.maxRecordsPerRequest,
    ),
    collectionMaxSize: integerOption(
      'collectionMaxSize',
      options.collectionMaxSize,
      D.collectionMaxSize,
      1024,
      L.maxBytesPerRequest,
    ),
    recordMaxBufferedTime: durationOption(
      'recordMaxBufferedTime',
      options.recordMaxBufferedTime,
      D.recordMaxBufferedTime,
      0,
      day,
    ),
    recordTtl: durationOption('recordTtl', options.recordTtl, D.recordTtl, 100, day),
    rateLimit: integerOption('rateLimit', options.rateLimit, D.rateLimit, 1, 1_000_000),
    failIfThrottled: booleanOption('failIfThrottled', options.failIfThrottled, D.failIfThrottled),
    preserveOrder: booleanOption('preserveOrder', options.preserveOrder, D.preserveOrder),
    maxConnections: integerOption('maxConnections', options.maxConnections, D.maxConnections, 1, 256),
    requestTimeout: durationOption('requestTimeout', options.requestTimeout, D.requestTimeout, 100, 600_000),
    maxUserRecordSize,
    maxOutstandingRecords: integerOption(
      'maxOutstandingRecords',
      options.maxOutstandingRecords,
      D.maxOutstandingRecords,
      1,
      100_000_000,
    ),
    maxBufferedBytes: integerOption(
      'maxBufferedBytes',
      options.maxBufferedBytes,
      D.maxBufferedBytes,
      1024,
      64 * 1024 ** 3,
    ),
    shardMapRefreshIntervalMillis: durationOption(
      'shardMapRefreshIntervalMillis',
      options.shardMapRefreshIntervalMillis,
      D.shardMapRefreshIntervalMillis,
      1_000,
      day,
    ),
    retryBackoffBaseMillis: durationOption(
      'retryBackoffBaseMillis',
      options.retryBackoffBaseMillis,
      D.retryBackoffBaseMillis,
      1,
      60_000,
    ),
    retryBackoffMaxMillis: durationOption(
      'retryBackoffMaxMillis',
      options.retryBackoffMaxMillis,
      D.retryBackoffMaxMillis,
      1,
      600_000,
    ),
    hashKeyCacheSize: integerOption('hashKeyCacheSize', options.hashKeyCacheSize, D.hashKeyCacheSize, 1, 10_000_000),
    logger: options.logger ?? silentLogger,
    tracing: booleanOption('tracing', options.tracing, D.tracing),
    cloudWatch: options.cloudWatch,
    metrics: options.metrics ?? noopMetrics,
  }
  notBelow(
    'retryBackoffMaxMillis',
    config.retryBackoffMaxMillis,
    'retryBackoffBaseMillis',
    config.retryBackoffBaseMillis,
  )
  if (config.aggregationEnabled && config.aggregationMaxSize + 1 > config.collectionMaxSize) {
    throw new ConfigurationError(
      'collectionMaxSize',
      `at least aggregationMaxSize + 1 (${config.aggregationMaxSize + 1}): an aggregate must fit in one request`,
      config.collectionMaxSize,
    )
  }
  if (config.maxUserRecordSize > config.collectionMaxSize) {
    throw new ConfigurationError(
      'maxUserRecordSize',
      `at most collectionMaxSize (${config.collectionMaxSize}): a record must fit in one PutRecords request`,
      config.maxUserRecordSize,
    )
  }
  return config
}

import type { KinesisClient } from '@aws-sdk/client-kinesis'
import {
  type AwsCredentials,
  type CloudWatchOptions,
  ConfigurationError,
  type Logger,
  type MetricsSink,
  noopMetrics,
  silentLogger,
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
  readonly cloudWatch: CloudWatchOptions | undefined
  readonly metrics: MetricsSink
}

function integer(option: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigurationError(option, `an integer in [${min}, ${max}]`, value)
  }
  return value
}

function boolean(option: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw new ConfigurationError(option, 'true or false', value)
  return value
}

function optionalString(option: string, value: unknown): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value.length === 0) throw new ConfigurationError(option, 'a non-empty string', value)
  return value
}

/** Checks every option and fills in the KPL defaults; throws ConfigurationError naming the option. */
export function resolveProducerConfig(options: KinesisProducerOptions = {}): ResolvedProducerConfig {
  if (typeof options !== 'object' || options === null) throw new ConfigurationError('options', 'an object', options)
  const streamName = optionalString('streamName', options.streamName)
  const streamARN = optionalString('streamARN', options.streamARN)
  if (streamName !== undefined && streamARN !== undefined) {
    throw new ConfigurationError('streamARN', 'either streamName or streamARN, not both', streamARN)
  }
  const day = 86_400_000
  const maxUserRecordSize = integer(
    'maxUserRecordSize',
    options.maxUserRecordSize,
    D.maxUserRecordSize,
    1,
    L.maxRecordBytesRaised,
  )
  const config: ResolvedProducerConfig = {
    streamName,
    streamARN,
    region: optionalString('region', options.region),
    endpoint: optionalString('endpoint', options.endpoint),
    credentials: options.credentials,
    kinesisClient: options.kinesisClient,
    aggregationEnabled: boolean('aggregationEnabled', options.aggregationEnabled, D.aggregationEnabled),
    aggregationMaxCount: integer(
      'aggregationMaxCount',
      options.aggregationMaxCount,
      D.aggregationMaxCount,
      1,
      D.aggregationMaxCount,
    ),
    aggregationMaxSize: integer(
      'aggregationMaxSize',
      options.aggregationMaxSize,
      D.aggregationMaxSize,
      64,
      L.maxAggregateBytes,
    ),
    collectionMaxCount: integer(
      'collectionMaxCount',
      options.collectionMaxCount,
      D.collectionMaxCount,
      1,
      L.maxRecordsPerRequest,
    ),
    collectionMaxSize: integer(
      'collectionMaxSize',
      options.collectionMaxSize,
      D.collectionMaxSize,
      1024,
      L.maxBytesPerRequest,
    ),
    recordMaxBufferedTime: integer(
      'recordMaxBufferedTime',
      options.recordMaxBufferedTime,
      D.recordMaxBufferedTime,
      0,
      day,
    ),
    recordTtl: integer('recordTtl', options.recordTtl, D.recordTtl, 100, day),
    rateLimit: integer('rateLimit', options.rateLimit, D.rateLimit, 1, 1_000_000),
    failIfThrottled: boolean('failIfThrottled', options.failIfThrottled, D.failIfThrottled),
    preserveOrder: boolean('preserveOrder', options.preserveOrder, D.preserveOrder),
    maxConnections: integer('maxConnections', options.maxConnections, D.maxConnections, 1, 256),
    requestTimeout: integer('requestTimeout', options.requestTimeout, D.requestTimeout, 100, 600_000),
    maxUserRecordSize,
    maxOutstandingRecords: integer(
      'maxOutstandingRecords',
      options.maxOutstandingRecords,
      D.maxOutstandingRecords,
      1,
      100_000_000,
    ),
    maxBufferedBytes: integer('maxBufferedBytes', options.maxBufferedBytes, D.maxBufferedBytes, 1024, 64 * 1024 ** 3),
    shardMapRefreshIntervalMillis: integer(
      'shardMapRefreshIntervalMillis',
      options.shardMapRefreshIntervalMillis,
      D.shardMapRefreshIntervalMillis,
      1_000,
      day,
    ),
    retryBackoffBaseMillis: integer(
      'retryBackoffBaseMillis',
      options.retryBackoffBaseMillis,
      D.retryBackoffBaseMillis,
      1,
      60_000,
    ),
    retryBackoffMaxMillis: integer(
      'retryBackoffMaxMillis',
      options.retryBackoffMaxMillis,
      D.retryBackoffMaxMillis,
      1,
      600_000,
    ),
    hashKeyCacheSize: integer('hashKeyCacheSize', options.hashKeyCacheSize, D.hashKeyCacheSize, 1, 10_000_000),
    logger: options.logger ?? silentLogger,
    cloudWatch: options.cloudWatch,
    metrics: options.metrics ?? noopMetrics,
  }
  if (config.retryBackoffMaxMillis < config.retryBackoffBaseMillis) {
    throw new ConfigurationError(
      'retryBackoffMaxMillis',
      `at least retryBackoffBaseMillis (${config.retryBackoffBaseMillis})`,
      config.retryBackoffMaxMillis,
    )
  }
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

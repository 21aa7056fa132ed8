import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import {
  ConfigurationError,
  KinesisLimits,
  booleanOption,
  durationOption,
  integerOption,
  noopMetrics,
  notBelow,
  oneOf,
  requiredStringOption,
  silentLogger,
  stringOption,
} from '@kinesis-ts/shared'
import { kcl3OptionsOf } from './config-kcl3.js'
import type {
  KinesisConsumerOptions,
  ResolvedConsumerConfig,
  ResolvedFanOutRetrieval,
  ResolvedInitialPosition,
  ResolvedPollingRetrieval,
} from './config-types.js'
import { CONSUMER_DEFAULTS as D } from './defaults.js'
import { resolveProcessingErrorPolicy } from './processing/error-policy.js'
import { type StreamRef, streamNameOfARN } from './stream-ref.js'

export type * from './config-types.js'

/** Kinesis stream, application and table names. */
const NAME = { test: /^[a-zA-Z0-9_.-]+$/, characters: '[a-zA-Z0-9_.-]' }

function name(option: string, value: unknown, maxLength: number, minLength = 1): string {
  return requiredStringOption(option, value, { minLength, maxLength, pattern: NAME })
}

function initialPositionOf(value: unknown): ResolvedInitialPosition {
  if (value === undefined || value === 'LATEST') return { type: 'LATEST' }
  if (value === 'TRIM_HORIZON') return { type: 'TRIM_HORIZON' }
  if (typeof value === 'object' && value !== null && 'atTimestamp' in value) {
    const at = (value as { atTimestamp: unknown }).atTimestamp
    if (at instanceof Date && !Number.isNaN(at.getTime())) return { type: 'AT_TIMESTAMP', timestamp: at }
  }
  throw new ConfigurationError('initialPosition', "'LATEST', 'TRIM_HORIZON' or { atTimestamp: Date }", value)
}

/** Takes a value given both at top level (KCL name) and under `retrieval`; they must agree. */
function either(option: string, top: number | undefined, nested: number | undefined): number | undefined {
  if (top !== undefined && nested !== undefined && top !== nested) {
    throw new ConfigurationError(option, `one value (the top-level option says ${top})`, nested)
  }
  return nested ?? top
}

function retrievalOf(options: KinesisConsumerOptions): ResolvedPollingRetrieval | ResolvedFanOutRetrieval {
  const retrieval = options.retrieval ?? { mode: 'polling' }
  if (typeof retrieval !== 'object' || retrieval === null) {
    throw new ConfigurationError('retrieval', "{ mode: 'polling' | 'fanout', ... }", retrieval)
  }
  if (retrieval.mode === 'fanout') {
    const httpVersion = oneOf('retrieval.httpVersion', retrieval.httpVersion, ['1.1', '2'], '2')
    return {
      mode: 'fanout',
      consumerName:
        retrieval.consumerName === undefined
          ? options.applicationName
          : name('retrieval.consumerName', retrieval.consumerName, 128),
      consumerARN: stringOption('retrieval.consumerARN', retrieval.consumerARN),
      httpVersion,
      // Range checks live with the fan-out source (resolveFanOutSourceOptions), which runs at construction.
      stallTimeoutMs: retrieval.stallTimeoutMs,
      closedShardCheckIntervalMs: retrieval.closedShardCheckIntervalMs,
    }
  }
  oneOf('retrieval.mode', (retrieval as { mode: unknown }).mode, ['polling', 'fanout'])
  const maxRecords = either('retrieval.maxRecords', options.maxRecords, retrieval.maxRecords)
  const idle = either(
    'retrieval.idleTimeBetweenReadsMs',
    options.idleTimeBetweenReadsInMillis,
    retrieval.idleTimeBetweenReadsMs,
  )
  const backoffBaseMillis = durationOption(
    'getRecordsBackoffBaseMillis',
    options.getRecordsBackoffBaseMillis,
    D.getRecordsBackoffBaseMillis,
    1,
  )
  const backoffMaxMillis = notBelow(
    'getRecordsBackoffMaxMillis',
    durationOption('getRecordsBackoffMaxMillis', options.getRecordsBackoffMaxMillis, D.getRecordsBackoffMaxMillis, 1),
    'getRecordsBackoffBaseMillis',
    backoffBaseMillis,
  )
  return {
    mode: 'polling',
    maxRecords: integerOption('maxRecords', maxRecords, D.maxRecords, 1, KinesisLimits.maxGetRecordsLimit),
    idleTimeBetweenReadsInMillis: durationOption(
      'idleTimeBetweenReadsInMillis',
      idle,
      D.idleTimeBetweenReadsInMillis,
      0,
    ),
    maxPendingBatches: integerOption(
      'retrieval.maxPendingBatches',
      retrieval.maxPendingBatches,
      D.maxPendingBatches,
      1,
      1_000,
    ),
    maxPendingBytes: integerOption('retrieval.maxPendingBytes', retrieval.maxPendingBytes, D.maxPendingBytes, 1),
    backoffBaseMillis,
    backoffMaxMillis,
  }
}

function processingOf(options: KinesisConsumerOptions) {
  const { processorFactory, processorModule } = options
  if ((processorFactory === undefined) === (processorModule === undefined)) {
    throw new ConfigurationError('processorFactory', 'exactly one of processorFactory and processorModule')
  }
  if (processorFactory !== undefined && typeof processorFactory !== 'function') {
    throw new ConfigurationError('processorFactory', 'a function returning a ShardRecordProcessor', processorFactory)
  }
  if (processorModule !== undefined && !(processorModule instanceof URL) && typeof processorModule !== 'string') {
    throw new ConfigurationError('processorModule', 'a URL or a module path', processorModule)
  }
  const workerThreads = integerOption('workerThreads', options.workerThreads, D.workerThreads, 0, 1_024)
  const lanesPerShard = integerOption('lanesPerShard', options.lanesPerShard, D.lanesPerShard, 1, 1_024)
  if (processorModule === undefined && (options.workerThreads !== undefined || options.lanesPerShard !== undefined)) {
    throw new ConfigurationError('workerThreads', 'workerThreads and lanesPerShard only with processorModule')
  }
  return { processorFactory, processorModule, workerThreads, lanesPerShard }
}

/** Per-call timeouts, renewal concurrency, the fence margin and the stall bound. */
function faultBoundsOf(options: KinesisConsumerOptions, failoverTimeMillis: number) {
  const maxLeaseRenewalThreads = integerOption(
    'maxLeaseRenewalThreads',
    options.maxLeaseRenewalThreads,
    D.maxLeaseRenewalThreads,
    1,
    1_000,
  )
  const dynamoDbRequestTimeoutMillis = durationOption(
    'dynamoDbRequestTimeoutMillis',
    options.dynamoDbRequestTimeoutMillis,
    Math.floor(failoverTimeMillis / D.dynamoDbRequestTimeoutDivisor),
    1,
    failoverTimeMillis - 1,
  )
  const kinesisRequestTimeoutMillis = durationOption(
    'kinesisRequestTimeoutMillis',
    options.kinesisRequestTimeoutMillis,
    D.kinesisRequestTimeoutMillis,
    1,
  )
  const leaseExpiryWatchIntervalMillis = durationOption(
    'leaseExpiryWatchIntervalMillis',
    options.leaseExpiryWatchIntervalMillis,
    Math.floor(failoverTimeMillis / D.leaseExpiryWatchDivisor),
    0,
  )
  return (retrieval: ResolvedPollingRetrieval | ResolvedFanOutRetrieval) => {
    const idle = retrieval.mode === 'polling' ? retrieval.idleTimeBetweenReadsInMillis : 0
    return {
      maxLeaseRenewalThreads,
      leaseExpiryWatchIntervalMillis,
      dynamoDbRequestTimeoutMillis,
      kinesisRequestTimeoutMillis,
      shardStallTimeoutMillis: durationOption(
        'shardStallTimeoutMillis',
        options.shardStallTimeoutMillis,
        D.shardStallCadences * (idle + kinesisRequestTimeoutMillis),
        1,
      ),
      // Java gives up epsilonMillis early; a tenth of the failover time also covers a slow event loop.
      leaseFenceMarginMillis: Math.max(D.epsilonMillis, Math.floor(failoverTimeMillis / 10)),
    }
  }
}

/** streamName, streamARN, or both when the ARN names that stream. */
function streamOf(options: KinesisConsumerOptions): StreamRef & { readonly streamARN: string | undefined } {
  if (options.streamARN === undefined) {
    if (options.streamName === undefined) throw new ConfigurationError('streamName', 'a streamName or a streamARN')
    return { streamName: name('streamName', options.streamName, 128), streamARN: undefined }
  }
  const streamARN = options.streamARN
  const fromARN = typeof streamARN === 'string' && streamARN.length <= 2048 ? streamNameOfARN(streamARN) : undefined
  if (fromARN === undefined || !NAME.test.test(fromARN) || fromARN.length > 128) {
    throw new ConfigurationError(
      'streamARN',
      'a Kinesis stream ARN (arn:aws:kinesis:<region>:<account>:stream/<name>)',
      streamARN,
    )
  }
  if (options.streamName !== undefined && options.streamName !== fromARN) {
    throw new ConfigurationError(
      'streamName',
      `the stream streamARN names (${fromARN}), or no streamName`,
      options.streamName,
    )
  }
  return { streamName: fromARN, streamARN }
}

/** Applies the KCL defaults, checks every option and the invariants between them. */
export function resolveConsumerConfig(options: KinesisConsumerOptions): ResolvedConsumerConfig {
  if (typeof options !== 'object' || options === null) throw new ConfigurationError('options', 'an object', options)
  const { streamName, streamARN } = streamOf(options)
  const applicationName = name('applicationName', options.applicationName, 255, 3)
  const tableName = options.tableName === undefined ? applicationName : name('tableName', options.tableName, 255, 3)
  const failoverTimeMillis = durationOption(
    'failoverTimeMillis',
    options.failoverTimeMillis,
    D.failoverTimeMillis,
    4 * D.epsilonMillis,
  )
  const renew = Math.floor(failoverTimeMillis / D.leaseRenewerIntervalDivisor) - D.epsilonMillis
  const taker = durationOption(
    'leaseTakerIntervalMillis',
    options.leaseTakerIntervalMillis,
    (failoverTimeMillis + D.epsilonMillis) * D.leaseTakerIntervalFactor,
    10,
  )
  const retryBase = durationOption(
    'processingRetryBackoffBaseMillis',
    options.processingRetryBackoffBaseMillis,
    D.processingRetryBackoffBaseMillis,
    1,
  )
  const retrieval = retrievalOf(options)
  const faultBounds = faultBoundsOf(options, failoverTimeMillis)
  const policy = resolveProcessingErrorPolicy(options.processingErrorPolicy)
  return Object.freeze({
    streamName,
    streamARN,
    applicationName,
    tableName,
    workerId: stringOption('workerId', options.workerId) ?? `${hostname()}:${randomUUID()}`,
    region: stringOption('region', options.region),
    endpoint: stringOption('endpoint', options.endpoint),
    dynamoDBEndpoint: stringOption('dynamoDBEndpoint', options.dynamoDBEndpoint),
    credentials: options.credentials,
    kinesisClient: options.kinesisClient,
    dynamoDBClient: options.dynamoDBClient,
    initialPosition: initialPositionOf(options.initialPosition),
    ...processingOf(options),
    retrieval,
    ...faultBounds(retrieval),
    ...kcl3OptionsOf(options, failoverTimeMillis),
    failoverTimeMillis,
    leaseRenewerIntervalMillis: renew,
    leaseTakerIntervalMillis: taker,
    maxLeasesForWorker: integerOption('maxLeasesForWorker', options.maxLeasesForWorker, D.maxLeasesForWorker, 1),
    maxLeasesToStealAtOneTime: integerOption(
      'maxLeasesToStealAtOneTime',
      options.maxLeasesToStealAtOneTime,
      D.maxLeasesToStealAtOneTime,
      1,
    ),
    shardSyncIntervalMillis: durationOption(
      'shardSyncIntervalMillis',
      options.shardSyncIntervalMillis,
      D.shardSyncIntervalMillis,
      10,
    ),
    parentShardPollIntervalMillis: durationOption(
      'parentShardPollIntervalMillis',
      options.parentShardPollIntervalMillis,
      D.parentShardPollIntervalMillis,
      10,
    ),
    cleanupLeasesUponShardCompletion: booleanOption(
      'cleanupLeasesUponShardCompletion',
      options.cleanupLeasesUponShardCompletion,
      D.cleanupLeasesUponShardCompletion,
    ),
    completedLeaseCleanupIntervalMillis: durationOption(
      'completedLeaseCleanupIntervalMillis',
      options.completedLeaseCleanupIntervalMillis,
      D.completedLeaseCleanupIntervalMillis,
      10,
    ),
    callProcessRecordsEvenForEmptyRecordList: booleanOption(
      'callProcessRecordsEvenForEmptyRecordList',
      options.callProcessRecordsEvenForEmptyRecordList,
      D.callProcessRecordsEvenForEmptyRecordList,
    ),
    processingErrorPolicy: policy,
    processingRetryBackoffBaseMillis: retryBase,
    processingRetryBackoffMaxMillis: notBelow(
      'processingRetryBackoffMaxMillis',
      durationOption(
        'processingRetryBackoffMaxMillis',
        options.processingRetryBackoffMaxMillis,
        D.processingRetryBackoffMaxMillis,
        1,
      ),
      'processingRetryBackoffBaseMillis',
      retryBase,
    ),
    shutdownTimeoutMillis: durationOption(
      'shutdownTimeoutMillis',
      options.shutdownTimeoutMillis,
      D.shutdownTimeoutMillis,
      1,
    ),
    maxInitializationAttempts: integerOption(
      'maxInitializationAttempts',
      options.maxInitializationAttempts,
      D.maxInitializationAttempts,
      1,
      10_000,
    ),
    schedulerInitializationBackoffTimeMillis: durationOption(
      'schedulerInitializationBackoffTimeMillis',
      options.schedulerInitializationBackoffTimeMillis,
      D.schedulerInitializationBackoffTimeMillis,
      0,
      3_600_000,
    ),
    logger: options.logger ?? silentLogger,
    tracing: booleanOption('tracing', options.tracing, D.tracing),
    metrics: options.metrics ?? noopMetrics,
    cloudWatch: options.cloudWatch,
  })
}

import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import { ConfigurationError, KinesisLimits, noopMetrics, silentLogger } from '@kinesis-ts/shared'
import type {
  KinesisConsumerOptions,
  ResolvedConsumerConfig,
  ResolvedFanOutRetrieval,
  ResolvedInitialPosition,
  ResolvedPollingRetrieval,
} from './config-types.js'
import { CONSUMER_DEFAULTS as D } from './defaults.js'
import { type StreamRef, streamNameOfARN } from './stream-ref.js'

export type * from './config-types.js'

const NAME = /^[a-zA-Z0-9_.-]+$/

function int(option: string, value: unknown, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigurationError(option, `an integer in ${min}..${max}`, value)
  }
  return value
}

function bool(option: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw new ConfigurationError(option, 'a boolean', value)
  return value
}

function name(option: string, value: unknown, maxLength: number, minLength = 1): string {
  if (typeof value !== 'string' || value.length < minLength || value.length > maxLength || !NAME.test(value)) {
    throw new ConfigurationError(option, `${minLength}..${maxLength} characters of [a-zA-Z0-9_.-]`, value)
  }
  return value
}

function optionalString(option: string, value: unknown): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value.length === 0) throw new ConfigurationError(option, 'a non-empty string', value)
  return value
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
    const httpVersion = retrieval.httpVersion ?? '2'
    if (httpVersion !== '1.1' && httpVersion !== '2') {
      throw new ConfigurationError('retrieval.httpVersion', "'1.1' or '2'", httpVersion)
    }
    return {
      mode: 'fanout',
      consumerName:
        retrieval.consumerName === undefined
          ? options.applicationName
          : name('retrieval.consumerName', retrieval.consumerName, 128),
      consumerARN: optionalString('retrieval.consumerARN', retrieval.consumerARN),
      httpVersion,
      // Range checks live with the fan-out source (resolveFanOutSourceOptions), which runs at construction.
      stallTimeoutMs: retrieval.stallTimeoutMs,
      closedShardCheckIntervalMs: retrieval.closedShardCheckIntervalMs,
    }
  }
  if (retrieval.mode !== 'polling') {
    throw new ConfigurationError('retrieval.mode', "'polling' or 'fanout'", (retrieval as { mode: unknown }).mode)
  }
  const maxRecords = either('retrieval.maxRecords', options.maxRecords, retrieval.maxRecords)
  const idle = either(
    'retrieval.idleTimeBetweenReadsMs',
    options.idleTimeBetweenReadsInMillis,
    retrieval.idleTimeBetweenReadsMs,
  )
  const backoffBaseMillis = int(
    'getRecordsBackoffBaseMillis',
    options.getRecordsBackoffBaseMillis,
    D.getRecordsBackoffBaseMillis,
    1,
  )
  const backoffMaxMillis = int(
    'getRecordsBackoffMaxMillis',
    options.getRecordsBackoffMaxMillis,
    D.getRecordsBackoffMaxMillis,
    backoffBaseMillis,
  )
  return {
    mode: 'polling',
    maxRecords: int('maxRecords', maxRecords, D.maxRecords, 1, KinesisLimits.maxGetRecordsLimit),
    idleTimeBetweenReadsInMillis: int('idleTimeBetweenReadsInMillis', idle, D.idleTimeBetweenReadsInMillis, 0),
    maxPendingBatches: int('retrieval.maxPendingBatches', retrieval.maxPendingBatches, D.maxPendingBatches, 1, 1_000),
    maxPendingBytes: int('retrieval.maxPendingBytes', retrieval.maxPendingBytes, D.maxPendingBytes, 1),
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
  const workerThreads = int('workerThreads', options.workerThreads, D.workerThreads, 0, 1_024)
  const lanesPerShard = int('lanesPerShard', options.lanesPerShard, D.lanesPerShard, 1, 1_024)
  if (processorModule === undefined && (options.workerThreads !== undefined || options.lanesPerShard !== undefined)) {
    throw new ConfigurationError('workerThreads', 'workerThreads and lanesPerShard only with processorModule')
  }
  return { processorFactory, processorModule, workerThreads, lanesPerShard }
}

/** Per-call timeouts, renewal concurrency, the fence margin and the stall bound. */
function faultBoundsOf(options: KinesisConsumerOptions, failoverTimeMillis: number) {
  const maxLeaseRenewalThreads = int(
    'maxLeaseRenewalThreads',
    options.maxLeaseRenewalThreads,
    D.maxLeaseRenewalThreads,
    1,
    1_000,
  )
  const dynamoDbRequestTimeoutMillis = int(
    'dynamoDbRequestTimeoutMillis',
    options.dynamoDbRequestTimeoutMillis,
    Math.floor(failoverTimeMillis / D.dynamoDbRequestTimeoutDivisor),
    1,
    failoverTimeMillis - 1,
  )
  const kinesisRequestTimeoutMillis = int(
    'kinesisRequestTimeoutMillis',
    options.kinesisRequestTimeoutMillis,
    D.kinesisRequestTimeoutMillis,
    1,
  )
  return (retrieval: ResolvedPollingRetrieval | ResolvedFanOutRetrieval) => {
    const idle = retrieval.mode === 'polling' ? retrieval.idleTimeBetweenReadsInMillis : 0
    return {
      maxLeaseRenewalThreads,
      dynamoDbRequestTimeoutMillis,
      kinesisRequestTimeoutMillis,
      shardStallTimeoutMillis: int(
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
  if (fromARN === undefined || !NAME.test(fromARN) || fromARN.length > 128) {
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
  const failoverTimeMillis = int(
    'failoverTimeMillis',
    options.failoverTimeMillis,
    D.failoverTimeMillis,
    4 * D.epsilonMillis,
  )
  const renew = Math.floor(failoverTimeMillis / D.leaseRenewerIntervalDivisor) - D.epsilonMillis
  const taker = int(
    'leaseTakerIntervalMillis',
    options.leaseTakerIntervalMillis,
    (failoverTimeMillis + D.epsilonMillis) * D.leaseTakerIntervalFactor,
    10,
  )
  const retryBase = int(
    'processingRetryBackoffBaseMillis',
    options.processingRetryBackoffBaseMillis,
    D.processingRetryBackoffBaseMillis,
    1,
  )
  const retrieval = retrievalOf(options)
  const faultBounds = faultBoundsOf(options, failoverTimeMillis)
  const policy = options.processingErrorPolicy ?? D.processingErrorPolicy
  if (policy !== 'retry' && policy !== 'skip')
    throw new ConfigurationError('processingErrorPolicy', "'retry' or 'skip'", policy)
  return Object.freeze({
    streamName,
    streamARN,
    applicationName,
    tableName,
    workerId: optionalString('workerId', options.workerId) ?? `${hostname()}:${randomUUID()}`,
    region: optionalString('region', options.region),
    endpoint: optionalString('endpoint', options.endpoint),
    dynamoDBEndpoint: optionalString('dynamoDBEndpoint', options.dynamoDBEndpoint),
    credentials: options.credentials,
    kinesisClient: options.kinesisClient,
    dynamoDBClient: options.dynamoDBClient,
    initialPosition: initialPositionOf(options.initialPosition),
    ...processingOf(options),
    retrieval,
    ...faultBounds(retrieval),
    failoverTimeMillis,
    leaseRenewerIntervalMillis: renew,
    leaseTakerIntervalMillis: taker,
    maxLeasesForWorker: int('maxLeasesForWorker', options.maxLeasesForWorker, D.maxLeasesForWorker, 1),
    maxLeasesToStealAtOneTime: int(
      'maxLeasesToStealAtOneTime',
      options.maxLeasesToStealAtOneTime,
      D.maxLeasesToStealAtOneTime,
      1,
    ),
    shardSyncIntervalMillis: int(
      'shardSyncIntervalMillis',
      options.shardSyncIntervalMillis,
      D.shardSyncIntervalMillis,
      10,
    ),
    parentShardPollIntervalMillis: int(
      'parentShardPollIntervalMillis',
      options.parentShardPollIntervalMillis,
      D.parentShardPollIntervalMillis,
      10,
    ),
    cleanupLeasesUponShardCompletion: bool(
      'cleanupLeasesUponShardCompletion',
      options.cleanupLeasesUponShardCompletion,
      D.cleanupLeasesUponShardCompletion,
    ),
    completedLeaseCleanupIntervalMillis: int(
      'completedLeaseCleanupIntervalMillis',
      options.completedLeaseCleanupIntervalMillis,
      D.completedLeaseCleanupIntervalMillis,
      10,
    ),
    callProcessRecordsEvenForEmptyRecordList: bool(
      'callProcessRecordsEvenForEmptyRecordList',
      options.callProcessRecordsEvenForEmptyRecordList,
      D.callProcessRecordsEvenForEmptyRecordList,
    ),
    processingErrorPolicy: policy,
    processingRetryBackoffBaseMillis: retryBase,
    processingRetryBackoffMaxMillis: int(
      'processingRetryBackoffMaxMillis',
      options.processingRetryBackoffMaxMillis,
      D.processingRetryBackoffMaxMillis,
      retryBase,
    ),
    shutdownTimeoutMillis: int('shutdownTimeoutMillis', options.shutdownTimeoutMillis, D.shutdownTimeoutMillis, 1),
    maxInitializationAttempts: int(
      'maxInitializationAttempts',
      options.maxInitializationAttempts,
      D.maxInitializationAttempts,
      1,
      10_000,
    ),
    schedulerInitializationBackoffTimeMillis: int(
      'schedulerInitializationBackoffTimeMillis',
      options.schedulerInitializationBackoffTimeMillis,
      D.schedulerInitializationBackoffTimeMillis,
      0,
      3_600_000,
    ),
    logger: options.logger ?? silentLogger,
    metrics: options.metrics ?? noopMetrics,
    cloudWatch: options.cloudWatch,
  })
}

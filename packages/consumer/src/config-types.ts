import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import type { KinesisClient } from '@aws-sdk/client-kinesis'
import type { AwsCredentials, CloudWatchOptions, Logger, MetricsSink } from '@kinesis-ts/shared'
import type { ClientVersionConfig } from './kcl3/migration-state.js'
import type { PoisonRecord, ShardRecordProcessor } from './types.js'

/** The consumer's options (KCL names) and their resolved form. */

export type InitialPosition = 'LATEST' | 'TRIM_HORIZON' | { atTimestamp: Date }
/**
 * Bounded retries, then the failing records isolated and handed to `deadLetter` (see the consumer
 * README, "Poison records").
 */
export interface DeadLetterPolicy {
  /** Tries of a failing batch (with the processing backoff) before it is split, and of each piece. */
  maxAttempts: number
  /** Split a failing batch in halves until the records that fail alone are found (default true); false: try each record alone. */
  bisectOnError?: boolean
  /** Called once per record that still fails alone after maxAttempts; when it throws, it is called again after a backoff. */
  deadLetter: (poison: PoisonRecord) => Promise<void> | void
}

export type ProcessingErrorPolicy = 'retry' | 'skip' | DeadLetterPolicy

export interface ResolvedDeadLetterPolicy {
  readonly maxAttempts: number
  readonly bisectOnError: boolean
  readonly deadLetter: (poison: PoisonRecord) => Promise<void> | void
}

export type ResolvedProcessingErrorPolicy = 'retry' | 'skip' | ResolvedDeadLetterPolicy

export interface PollingRetrievalOptions {
  mode: 'polling'
  maxRecords?: number
  idleTimeBetweenReadsMs?: number
  /** Prefetch bound: batches read ahead of the processor. */
  maxPendingBatches?: number
  /** Prefetch bound: bytes of record data read ahead of the processor. */
  maxPendingBytes?: number
}

export interface FanOutRetrievalOptions {
  mode: 'fanout'
  /** Defaults to applicationName. */
  consumerName?: string
  consumerARN?: string
  /** '2' (default; AWS requires HTTP/2 for SubscribeToShard) or '1.1' for endpoints that need it. */
  httpVersion?: '1.1' | '2'
  /** An open subscription with no event for this long is replaced (half-open connections). Default 60000. */
  stallTimeoutMs?: number
  /**
   * After this long caught up on a subscription, ListShards checks whether the shard was closed, for
   * endpoints that never end a closed shard's subscription (kinesis-local). Default 60000; 0 disables.
   */
  closedShardCheckIntervalMs?: number
}

export type RetrievalOptions = PollingRetrievalOptions | FanOutRetrievalOptions

export interface KinesisConsumerOptions {
  /** The stream to read: streamName or streamARN (or both, naming the same stream). */
  streamName?: string
  /**
   * The stream's ARN, for a stream of another account (reached with the client's credentials, e.g. an
   * assumed role): every Kinesis call then names the stream by it. Its name part is the streamName.
   */
  streamARN?: string
  applicationName: string
  /** The lease table; defaults to applicationName (as the Java KCL). */
  tableName?: string
  /** This worker's name in `leaseOwner`; defaults to `<hostname>:<random UUID>`. */
  workerId?: string
  region?: string
  /** Kinesis endpoint. */
  endpoint?: string
  dynamoDBEndpoint?: string
  credentials?: AwsCredentials
  kinesisClient?: KinesisClient
  dynamoDBClient?: DynamoDBClient
  initialPosition?: InitialPosition
  processorFactory?: () => ShardRecordProcessor
  /** A module whose default export is a processor factory, run in worker threads. */
  processorModule?: URL | string
  workerThreads?: number
  lanesPerShard?: number
  retrieval?: RetrievalOptions
  failoverTimeMillis?: number
  /** How often leases are scanned and taken; Java: 2 × (failoverTimeMillis + 25). */
  leaseTakerIntervalMillis?: number
  maxLeasesForWorker?: number
  maxLeasesToStealAtOneTime?: number
  shardSyncIntervalMillis?: number
  parentShardPollIntervalMillis?: number
  cleanupLeasesUponShardCompletion?: boolean
  completedLeaseCleanupIntervalMillis?: number
  maxRecords?: number
  idleTimeBetweenReadsInMillis?: number
  callProcessRecordsEvenForEmptyRecordList?: boolean
  processingErrorPolicy?: ProcessingErrorPolicy
  processingRetryBackoffBaseMillis?: number
  processingRetryBackoffMaxMillis?: number
  getRecordsBackoffBaseMillis?: number
  getRecordsBackoffMaxMillis?: number
  shutdownTimeoutMillis?: number
  /**
   * How often, fleet-wide, an eventually consistent scan looks for free leases — expired, released by
   * a worker that shut down, or naming this worker — and takes them (never steals; balancing stays with
   * leaseTakerIntervalMillis). The live workers take turns in wall-clock slots of this length, so each
   * scans every (workers × this), at most every leaseTakerIntervalMillis, and a lease seen is taken by a
   * timer the moment it expires. Default failoverTimeMillis / 20; 0 turns the watch off (Java KCL 2.x timing).
   */
  leaseExpiryWatchIntervalMillis?: number
  /** Java KCL: lease renewals in flight at once; each lease renews on its own (default 20). */
  maxLeaseRenewalThreads?: number
  /**
   * Bound on every DynamoDB call (the SDK's retries included); default failoverTimeMillis / 4. A call
   * past it is abandoned and counts as failed; must be below failoverTimeMillis.
   */
  dynamoDbRequestTimeoutMillis?: number
  /** Bound on every Kinesis call the consumer makes (default 10000). */
  kinesisRequestTimeoutMillis?: number
  /**
   * A held shard that has not moved for this long (no read answered, outside the processor's own
   * time) is reset from its checkpoint and reported (`consumer.shard_stalled`). Default 3 × (idle
   * time between reads + kinesisRequestTimeoutMillis).
   */
  shardStallTimeoutMillis?: number
  /** Java KCL: tries of start()'s initialization (lease table, first shard sync) on transient errors. */
  maxInitializationAttempts?: number
  /** Java KCL: pause between those tries. */
  schedulerInitializationBackoffTimeMillis?: number
  logger?: Logger
  /**
   * OpenTelemetry tracing through the optional peer dependency `@opentelemetry/api` (off by default):
   * a `process` span per processRecords call, linked to the producer contexts in its records' headers.
   */
  tracing?: boolean
  /** Where KCL-named metrics go. */
  metrics?: MetricsSink
  /**
   * Publish the metrics to CloudWatch (namespace = applicationName unless given, as the KCL), through
   * the optional peer dependency `@aws-sdk/client-cloudwatch`. Off unless set.
   */
  cloudWatch?: CloudWatchOptions
  /**
   * The Java `ClientVersionConfig` (camelCased). Unset, start() chooses from the lease table: Java's
   * default '3x' on a new table, one with the LeaseOwnerToLeaseKeyIndex or one with migration state; the
   * 2.x protocol on a Java 2.x table (neither). See the README "Migrating / KCL 3.x".
   */
  clientVersionConfig?: ClientVersionConfig
  /** KCL 3.x: the leader's assignment run (default 2 × failoverTimeMillis); workers discover assigned leases faster. */
  leaseAssignmentIntervalMillis?: number
  /** KCL 3.x: how often this worker's WorkerMetricStats item is written (default 30000). */
  workerMetricsReporterFreqInMillis?: number
  /** KCL 3.x: the leader lock's lease (default 120000; at least 2 × the heartbeat). */
  dynamoDbLockBasedLeaderLeaseDurationInMillis?: number
  /** KCL 3.x: the leader lock's heartbeat (default 30000). */
  dynamoDbLockBasedLeaderHeartbeatPeriodInMillis?: number
  /** KCL 3.x: how long a graceful handoff waits for the final checkpoint before the lease is assigned anyway (default 30000). */
  gracefulLeaseHandoffTimeoutMillis?: number
  /** KCL 3.x balancing: a worker this far (percent) from the fleet average is rebalanced (default 10). */
  reBalanceThresholdPercentage?: number
  /** KCL 3.x balancing: share (percent) of the computed excess moved per run (default 60). */
  dampeningPercentage?: number
  /** KCL 3.x balancing: a donor gives its smallest lease when none fits the excess (default true). */
  allowThroughputOvershoot?: boolean
  /** KCL 3.x balancing: every how many assignment runs the load is rebalanced (default 3). */
  varianceBalancingFrequency?: number
  /** KCL 3.x balancing: EMA weight of the newest worker metric sample, in (0, 1] (default 0.5). */
  workerMetricsEMAAlpha?: number
  /** KCL 3.x balancing: no worker is given leases above this throughput (default Infinity: unlimited). */
  maxThroughputPerHostKBps?: number
}

export type { ClientVersionConfig }

/** The KCL 3.x options, defaults applied (kcl3-protocol §11). */
export interface ResolvedKcl3Options {
  /** As given; undefined: chosen from the lease table at start() (see KinesisConsumerOptions). */
  readonly clientVersionConfig: ClientVersionConfig | undefined
  readonly leaseAssignmentIntervalMillis: number
  readonly workerMetricsReporterFreqInMillis: number
  readonly dynamoDbLockBasedLeaderLeaseDurationInMillis: number
  readonly dynamoDbLockBasedLeaderHeartbeatPeriodInMillis: number
  readonly gracefulLeaseHandoffTimeoutMillis: number
  readonly reBalanceThresholdPercentage: number
  readonly dampeningPercentage: number
  readonly allowThroughputOvershoot: boolean
  readonly varianceBalancingFrequency: number
  readonly workerMetricsEMAAlpha: number
  readonly maxThroughputPerHostKBps: number
}

export type ResolvedInitialPosition =
  | { type: 'LATEST' }
  | { type: 'TRIM_HORIZON' }
  | { type: 'AT_TIMESTAMP'; timestamp: Date }

export interface ResolvedPollingRetrieval {
  readonly mode: 'polling'
  readonly maxRecords: number
  readonly idleTimeBetweenReadsInMillis: number
  readonly maxPendingBatches: number
  readonly maxPendingBytes: number
  readonly backoffBaseMillis: number
  readonly backoffMaxMillis: number
}

export interface ResolvedFanOutRetrieval {
  readonly mode: 'fanout'
  readonly consumerName: string
  readonly consumerARN: string | undefined
  readonly httpVersion: '1.1' | '2'
  readonly stallTimeoutMs: number | undefined
  readonly closedShardCheckIntervalMs: number | undefined
}

export interface ResolvedConsumerConfig extends ResolvedKcl3Options {
  /** Given, or the name part of streamARN. */
  readonly streamName: string
  readonly streamARN: string | undefined
  readonly applicationName: string
  readonly tableName: string
  readonly workerId: string
  readonly region: string | undefined
  readonly endpoint: string | undefined
  readonly dynamoDBEndpoint: string | undefined
  readonly credentials: AwsCredentials | undefined
  readonly kinesisClient: KinesisClient | undefined
  readonly dynamoDBClient: DynamoDBClient | undefined
  readonly initialPosition: ResolvedInitialPosition
  readonly processorFactory: (() => ShardRecordProcessor) | undefined
  readonly processorModule: URL | string | undefined
  readonly workerThreads: number
  readonly lanesPerShard: number
  readonly retrieval: ResolvedPollingRetrieval | ResolvedFanOutRetrieval
  readonly failoverTimeMillis: number
  readonly leaseRenewerIntervalMillis: number
  readonly leaseTakerIntervalMillis: number
  readonly maxLeasesForWorker: number
  readonly maxLeasesToStealAtOneTime: number
  readonly shardSyncIntervalMillis: number
  readonly parentShardPollIntervalMillis: number
  readonly cleanupLeasesUponShardCompletion: boolean
  readonly completedLeaseCleanupIntervalMillis: number
  readonly callProcessRecordsEvenForEmptyRecordList: boolean
  readonly processingErrorPolicy: ResolvedProcessingErrorPolicy
  readonly processingRetryBackoffBaseMillis: number
  readonly processingRetryBackoffMaxMillis: number
  readonly shutdownTimeoutMillis: number
  readonly maxLeaseRenewalThreads: number
  readonly leaseExpiryWatchIntervalMillis: number
  readonly dynamoDbRequestTimeoutMillis: number
  readonly kinesisRequestTimeoutMillis: number
  readonly shardStallTimeoutMillis: number
  /** A lease is given up this long before failoverTimeMillis passes without a renewal (self-fencing). */
  readonly leaseFenceMarginMillis: number
  readonly maxInitializationAttempts: number
  readonly schedulerInitializationBackoffTimeMillis: number
  readonly logger: Logger
  readonly tracing: boolean
  readonly metrics: MetricsSink
  readonly cloudWatch: CloudWatchOptions | undefined
}

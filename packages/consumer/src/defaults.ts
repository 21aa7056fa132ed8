/**
 * Defaults of every consumer option, named and valued as in the Java KCL (camelCase, ms) where the
 * KCL has the option; kinesis-ts additions are marked.
 */
export const CONSUMER_DEFAULTS = Object.freeze({
  initialPosition: 'LATEST' as const,
  failoverTimeMillis: 10_000,
  /** Java: Integer.MAX_VALUE. */
  maxLeasesForWorker: 2_147_483_647,
  maxLeasesToStealAtOneTime: 1,
  shardSyncIntervalMillis: 60_000,
  parentShardPollIntervalMillis: 10_000,
  cleanupLeasesUponShardCompletion: true,
  /** Java LeaseCleanupConfig.completedLeaseCleanupIntervalMillis. */
  completedLeaseCleanupIntervalMillis: 300_000,
  maxRecords: 10_000,
  idleTimeBetweenReadsInMillis: 1_500,
  callProcessRecordsEvenForEmptyRecordList: false,
  /** Java PollingConfig maxPendingProcessRecordsInput / maxByteSize of the prefetch cache. */
  maxPendingBatches: 3,
  maxPendingBytes: 8 * 1024 * 1024,
  /** kinesis-ts: back-off of failed GetRecords (full jitter). */
  getRecordsBackoffBaseMillis: 200,
  getRecordsBackoffMaxMillis: 10_000,
  /**
   * kinesis-ts: 'retry' redelivers a batch whose processRecords threw; 'skip' is the Java KCL's behaviour.
   * 'retry' stays the default: a dead-letter destination is the application's to choose, and losing no
   * record silently matters more than a moving shard.
   */
  processingErrorPolicy: 'retry' as const,
  /** kinesis-ts: the object form of processingErrorPolicy splits a failing batch in halves unless told not to. */
  bisectOnError: true,
  /** kinesis-ts: upper bound of processingErrorPolicy.maxAttempts. */
  maxProcessingAttempts: 100,
  processingRetryBackoffBaseMillis: 500,
  processingRetryBackoffMaxMillis: 30_000,
  /** kinesis-ts: upper bound of a graceful shutdown before it turns into a hard stop. */
  shutdownTimeoutMillis: 30_000,
  /** Java CoordinatorConfig.maxInitializationAttempts. */
  maxInitializationAttempts: 20,
  /** Java CoordinatorConfig.schedulerInitializationBackoffTimeMillis. */
  schedulerInitializationBackoffTimeMillis: 1_000,
  /** Java: takerIntervalMillis = (failoverTimeMillis + epsilon) * 2. */
  leaseTakerIntervalFactor: 2,
  /** Java: renewerIntervalMillis = failoverTimeMillis / 3 - epsilon. */
  leaseRenewerIntervalDivisor: 3,
  /** Java LeaseManagementConfig.epsilonMillis. */
  epsilonMillis: 25,
  /** Java LeaseManagementConfig.maxLeaseRenewalThreads: renewals in flight at once. */
  maxLeaseRenewalThreads: 20,
  /**
   * kinesis-ts: bound on each DynamoDB call, as a share of failoverTimeMillis (a quarter: well under
   * the renewal interval of a third, so a hung renewal is abandoned before the next one is due).
   */
  dynamoDbRequestTimeoutDivisor: 4,
  /** kinesis-ts: bound on each Kinesis call (GetRecords, GetShardIterator, ListShards, ...). */
  kinesisRequestTimeoutMillis: 10_000,
  /**
   * kinesis-ts: a shard that has not moved (no read answered) for this many times the expected
   * cadence (idle time + one Kinesis call) is reset from its checkpoint.
   */
  shardStallCadences: 3,
  /**
   * kinesis-ts: some worker of the fleet runs the expiry watch's scan (eventually consistent) every
   * failoverTimeMillis / 20, the live workers taking turns. A dead or departing worker leaves its turn
   * empty, so the first scan after its last write comes within two slots: a crashed worker's lease is
   * taken within failoverTimeMillis + 1 s of its last renewal, a released one within 1 s, leaving a
   * second of the 2 s targets for the take and the first read. At / 15 the benchmark's crash p100
   * reached 11,977 ms of the 12,000 allowed (2 × 4 workers, a busy machine).
   */
  leaseExpiryWatchDivisor: 20,
  /**
   * Java CoordinatorConfig.clientVersionConfig: CLIENT_VERSION_CONFIG_3X. Here what an unset option runs
   * on a new or 3.x table; a Java 2.x table keeps the 2.x protocol (kcl3/default-client-version.ts).
   */
  clientVersionConfig: '3x' as const,
  /** Java: leaseAssignmentIntervalMillis = 2 × failoverTimeMillis. */
  leaseAssignmentIntervalFactor: 2,
  /** Java WorkerUtilizationAwareAssignmentConfig defaults. */
  workerMetricsReporterFreqInMillis: 30_000,
  varianceBalancingFrequency: 3,
  /* The other balancing thresholds: DEFAULT_ASSIGNMENT_THRESHOLDS (kcl3/assignment-plan.ts). */
  /** Java GracefulLeaseHandoffConfig.gracefulLeaseHandoffTimeoutMillis. */
  gracefulLeaseHandoffTimeoutMillis: 30_000,
  workerThreads: 0,
  lanesPerShard: 1,
  /** kinesis-ts: OpenTelemetry process spans linked to the records' producers (needs @opentelemetry/api). */
  tracing: false,
})

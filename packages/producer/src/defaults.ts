/**
 * Defaults of every producer option: the Java KPL's names (camelCased) and values, plus the
 * kinesis-ts additions, which are marked.
 */
export const PRODUCER_DEFAULTS = Object.freeze({
  aggregationEnabled: true,
  aggregationMaxCount: 4_294_967_295,
  aggregationMaxSize: 51_200,
  collectionMaxCount: 500,
  collectionMaxSize: 5 * 1024 * 1024,
  recordMaxBufferedTime: 100,
  recordTtl: 30_000,
  rateLimit: 150,
  failIfThrottled: false,
  /**
   * kinesis-ts: records of a partition key reach Kinesis in the order they were added, through
   * throttling, failed requests, reshards and expiry (one request and one Kinesis record in flight per
   * shard; a failed try goes back to the head of its shard, which backs off). false: the KPL's
   * behaviour, no order promised, several requests and aggregates per shard at once.
   */
  preserveOrder: true,
  maxConnections: 24,
  requestTimeout: 6_000,
  maxUserRecordSize: 1024 * 1024,
  /** kinesis-ts: addUserRecord waits while this many user records are unsettled. */
  maxOutstandingRecords: 100_000,
  /** kinesis-ts: addUserRecord waits while the unsettled records hold this many bytes (data + keys). */
  maxBufferedBytes: 64 * 1024 * 1024,
  /** KPL: shardMapRefreshInterval... (the KPL refreshes on errors only); kinesis-ts also refreshes on a timer. */
  shardMapRefreshIntervalMillis: 60_000,
  /** kinesis-ts: first retry waits up to this long (full jitter), doubling per attempt. */
  retryBackoffBaseMillis: 100,
  retryBackoffMaxMillis: 5_000,
  /** kinesis-ts: partition keys whose hash key is remembered (MD5 is the hottest per-record cost). */
  hashKeyCacheSize: 10_000,
  /** kinesis-ts: OpenTelemetry context in record headers and a span per request (needs @opentelemetry/api). */
  tracing: false,
})

/** Kinesis limits the options are checked against. */
export const PRODUCER_LIMITS = Object.freeze({
  maxAggregateBytes: 1024 * 1024,
  maxRecordsPerRequest: 500,
  maxBytesPerRequest: 5 * 1024 * 1024,
  maxRecordBytesRaised: 10 * 1024 * 1024,
})

/** Service limits of Kinesis Data Streams that both the producer and the consumer respect. */
export const KinesisLimits = Object.freeze({
  /** Largest record (data + partition key) on a stream with default settings. */
  maxRecordBytes: 1024 * 1024,
  /** Largest record after a stream's limit has been raised. */
  maxRecordBytesRaised: 10 * 1024 * 1024,
  minPartitionKeyLength: 1,
  maxPartitionKeyLength: 256,
  maxRecordsPerPutRecords: 500,
  /** Data + partition keys of one PutRecords request. */
  maxBytesPerPutRecords: 5 * 1024 * 1024,
  /** Write limits of one shard, per second. */
  shardRecordsPerSecond: 1000,
  shardBytesPerSecond: 1024 * 1024,
  maxGetRecordsLimit: 10000,
})

/** The largest hash key: 2^128 - 1. */
export const MAX_HASH_KEY = (1n << 128n) - 1n

/** Metric names as the Java KCL publishes them. */
export const METRICS = Object.freeze({
  recordsProcessed: 'RecordsProcessed',
  dataBytesProcessed: 'DataBytesProcessed',
  millisBehindLatest: 'MillisBehindLatest',
  processTaskTime: 'ProcessTask.Time',
  processTaskSuccess: 'ProcessTask.Success',
  currentLeases: 'CurrentLeases',
  takenLeases: 'TakenLeases',
  lostLeases: 'LostLeases',
  expiredLeases: 'ExpiredLeases',
  totalLeases: 'TotalLeases',
  numWorkers: 'NumWorkers',
  neededLeases: 'NeededLeases',
  leaseSpillover: 'LeaseSpillover',
  renewLeaseSuccess: 'RenewLease.Success',
  renewLeaseTime: 'RenewLease.Time',
  takeLeasesSuccess: 'TakeLeases.Success',
  takeLeasesTime: 'TakeLeases.Time',
  getRecordsSuccess: 'GetRecords.Success',
  getRecordsTime: 'GetRecords.Time',
  getRecordsThrottled: 'GetRecords.Throttled',
  checkpointSuccess: 'UpdateLease.Success',
  checkpointTime: 'UpdateLease.Time',
  shardSyncSuccess: 'ShardSyncTask.Success',
  cleanedLeases: 'CleanedUpLeases',
  /** kinesis-ts: the worst event-loop delay since the last check (ms). */
  eventLoopDelay: 'EventLoopDelay',
  /** kinesis-ts: a held shard found without a consumer or not moving, and reset. */
  shardStalled: 'ShardStalled',
  /** kinesis-ts: a processRecords call that delivers records again after one threw (a redelivered batch, a half, a record alone). */
  processingRetries: 'ProcessingRetries',
  /** kinesis-ts: a failing batch split, in halves or (bisectOnError false) into single records. */
  processingBisections: 'ProcessingBisections',
  /** kinesis-ts: a record handed to deadLetter (the call returned). */
  recordsDeadLettered: 'RecordsDeadLettered',
})

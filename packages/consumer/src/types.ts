/** Public processing types, named as in the Java KCL (DESIGN.md). */

/** A position in a shard: a sequence number (or a sentinel) and a sub-sequence number within an aggregate. */
export interface ExtendedSequenceNumber {
  /** A decimal sequence number, or one of the sentinels TRIM_HORIZON, LATEST, AT_TIMESTAMP, SHARD_END. */
  sequenceNumber: string
  subSequenceNumber: number
}

export interface KinesisClientRecord {
  data: Uint8Array
  partitionKey: string
  sequenceNumber: string
  /** 0 for a plain record; the index within its KPL aggregate otherwise. */
  subSequenceNumber: number
  explicitHashKey?: string
  approximateArrivalTimestamp: Date
  aggregated: boolean
  /** The user record's headers (its KPL tags); empty for plain records and records without tags. */
  headers: Readonly<Record<string, string>>
}

/**
 * A record that still failed alone after `maxAttempts` tries, handed to the `deadLetter` function of
 * the object form of `processingErrorPolicy`.
 */
export interface PoisonRecord {
  shardId: string
  record: KinesisClientRecord
  /** What processRecords threw on the record's last try alone (with worker threads: a WorkerProcessingError or WorkerCrashedError). */
  error: unknown
  /** How many processRecords calls that included this record threw, the tries of the batches it was in counted. */
  attempts: number
}

export interface Checkpointer {
  /** Without arguments: the last record delivered so far (or SHARD_END inside shardEnded). */
  checkpoint(): Promise<void>
  checkpoint(record: KinesisClientRecord): Promise<void>
  checkpoint(sequenceNumber: string, subSequenceNumber?: number): Promise<void>
  /** Two-phase checkpoint: stores `pendingCheckpoint`; the returned handle's `checkpoint()` commits it. */
  prepareCheckpoint(): Promise<PreparedCheckpointer>
  prepareCheckpoint(record: KinesisClientRecord): Promise<PreparedCheckpointer>
  prepareCheckpoint(sequenceNumber: string, subSequenceNumber?: number): Promise<PreparedCheckpointer>
}

export interface PreparedCheckpointer {
  readonly pendingCheckpoint: ExtendedSequenceNumber
  checkpoint(): Promise<void>
}

export interface InitializationInput {
  shardId: string
  extendedSequenceNumber: ExtendedSequenceNumber
}

export interface ProcessRecordsInput {
  records: KinesisClientRecord[]
  checkpointer: Checkpointer
  millisBehindLatest: number
}

// biome-ignore lint/complexity/noBannedTypes: the KCL passes an empty input object; kept for parity
export type LeaseLostInput = {}

export interface ShardEndedInput {
  checkpointer: Checkpointer
}

export interface ShutdownRequestedInput {
  checkpointer: Checkpointer
}

export interface ShardRecordProcessor {
  initialize(input: InitializationInput): Promise<void> | void
  processRecords(input: ProcessRecordsInput): Promise<void> | void
  leaseLost(input: LeaseLostInput): Promise<void> | void
  /** Must call `checkpointer.checkpoint()`; otherwise the shard is not finished and is retried. */
  shardEnded(input: ShardEndedInput): Promise<void> | void
  shutdownRequested(input: ShutdownRequestedInput): Promise<void> | void
}

import type { Isolation } from './processing/isolation.js'
import type { ProcessRecordsInput, ShardRecordProcessor } from './types.js'

/**
 * The two seams of the consumer: where records come from (retrieval) and where they are processed.
 * Polling and fan-out both implement `RecordSource` (made per shard by a `RecordSourceFactory`);
 * in-thread and worker-thread processing both implement `ProcessorHost`. The shard consumer loop only
 * knows these interfaces, so a retrieval or processing mode plugs in without touching lease, lineage
 * or checkpoint code.
 */

/** Where a shard's reading starts, derived from the lease checkpoint. */
export type StartingPosition =
  | { type: 'TRIM_HORIZON' }
  | { type: 'LATEST' }
  | { type: 'AT_TIMESTAMP'; timestamp: Date }
  | { type: 'AT_SEQUENCE_NUMBER'; sequenceNumber: string }
  | { type: 'AFTER_SEQUENCE_NUMBER'; sequenceNumber: string }

/** A record as the service returned it, before deaggregation. */
export interface RawKinesisRecord {
  data: Uint8Array
  partitionKey: string
  sequenceNumber: string
  explicitHashKey?: string
  approximateArrivalTimestamp: Date
}

export interface ChildShardInfo {
  shardId: string
  parentShards: string[]
  hashKeyRange: { startingHashKey: string; endingHashKey: string }
}

/** One delivery from a shard: a GetRecords response or a SubscribeToShard event. */
export interface RawBatch {
  records: RawKinesisRecord[]
  millisBehindLatest: number
  /**
   * Set when the shard is closed and fully read. `childShards` is the service's list, or undefined
   * when it did not send one (kinesis-local on SubscribeToShard): the consumer then falls back to ListShards.
   */
  shardEnd?: { childShards: ChildShardInfo[] | undefined }
}

export interface ShardDescriptor {
  shardId: string
  streamName: string
  streamARN?: string
  /** Decimal strings, as in the lease table. */
  startingHashKey: string
  endingHashKey: string
}

/**
 * Records of one shard, in order. `next()` waits for the next batch (polling: after the idle time;
 * fan-out: the next event), and must reject with AbortedError promptly when `signal` aborts.
 * The consumer calls `next()` again only after it has processed the previous batch: that is the
 * flow control; a source must not buffer without bound meanwhile.
 */
export interface RecordSource {
  next(signal: AbortSignal): Promise<RawBatch>
  /** Frees sockets, timers and subscriptions. Idempotent. */
  close(): Promise<void>
}

export interface RecordSourceFactory {
  /** Called when a worker starts (for fan-out: register the stream consumer and wait until ACTIVE). */
  start?(signal: AbortSignal): Promise<void>
  open(shard: ShardDescriptor, position: StartingPosition): RecordSource
  stop?(): Promise<void>
}

/**
 * Where processing happens. The shard consumer gets one `ShardRecordProcessor` per lease from the
 * host and drives its lifecycle; the in-thread host wraps `processorFactory`, the worker-thread host
 * returns a proxy that runs the user's processor in a piscina pool (lanes, crash redelivery) and relays
 * checkpoint calls back to the `Checkpointer` it was handed, so lease semantics stay in the main thread.
 */
export interface ProcessorHost {
  create(shardId: string): ShardRecordProcessor
  /** Graceful: lets the processors finish the calls they were given, then frees the host. */
  close(): Promise<void>
  /**
   * Hard: frees the host now, abandoning calls still running (a processor stuck in processRecords must
   * not hold up destroy()). Hosts with nothing to abandon may leave it out; close() is used instead.
   */
  destroy?(): Promise<void>
}

/**
 * A host's processor that settles a failing batch itself under a dead-letter policy: the worker-thread
 * processor isolates failures within the lane that failed, using the consumer's `Isolation` (backoff,
 * deadLetter in the main thread, metrics and events). Others are settled by the shard consumer.
 */
export interface SettlingProcessor extends ShardRecordProcessor {
  settleRecords(input: ProcessRecordsInput, isolation: Isolation): Promise<boolean>
}

export function isSettlingProcessor(processor: ShardRecordProcessor): processor is SettlingProcessor {
  return typeof (processor as Partial<SettlingProcessor>).settleRecords === 'function'
}

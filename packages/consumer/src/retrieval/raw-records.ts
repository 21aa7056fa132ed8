import type {
  ChildShard,
  GetShardIteratorCommandInput,
  StartingPosition as SdkStartingPosition,
  _Record,
} from '@aws-sdk/client-kinesis'
import { MalformedResponseError } from '../errors.js'
import type { ChildShardInfo, RawBatch, RawKinesisRecord, StartingPosition } from '../seams.js'

/*
 * From the SDK's shapes to ours, for GetRecords and SubscribeToShard alike. One rule for what the
 * service left out: a field that identifies something (a record's sequence number, a child shard's id
 * or hash range) is never made up, because a made-up one would be checkpointed or leased; the response
 * is refused with MalformedResponseError and the shard is read again from where it stood. Fields that
 * identify nothing get a neutral value: no data is empty data, no partition key is '', no arrival
 * time is the epoch, no MillisBehindLatest is 0.
 */

export function rawRecordOf(record: _Record): RawKinesisRecord {
  if (record.SequenceNumber === undefined) throw new MalformedResponseError('a record without a SequenceNumber')
  return {
    data: record.Data ?? new Uint8Array(0),
    partitionKey: record.PartitionKey ?? '',
    sequenceNumber: record.SequenceNumber,
    approximateArrivalTimestamp: record.ApproximateArrivalTimestamp ?? new Date(0),
  }
}

/** A GetRecords output or a SubscribeToShard event, without its shard end (the callers tell that apart). */
export function rawBatchOf(delivery: {
  readonly Records?: _Record[] | undefined
  readonly MillisBehindLatest?: number | undefined
}): RawBatch {
  return { records: (delivery.Records ?? []).map(rawRecordOf), millisBehindLatest: delivery.MillisBehindLatest ?? 0 }
}

/** The children the service named at a shard's end; undefined when it named none (ListShards then tells). */
export function childShardsOf(children: ChildShard[] | undefined | null): ChildShardInfo[] | undefined {
  if (children === undefined || children === null || children.length === 0) return undefined
  return children.map((child) => {
    const range = child.HashKeyRange
    if (child.ShardId === undefined || range?.StartingHashKey === undefined || range.EndingHashKey === undefined) {
      throw new MalformedResponseError('a child shard without a ShardId or a HashKeyRange')
    }
    return {
      shardId: child.ShardId,
      parentShards: child.ParentShards ?? [],
      hashKeyRange: { startingHashKey: range.StartingHashKey, endingHashKey: range.EndingHashKey },
    }
  })
}

/** Where a SubscribeToShard starts. */
export function subscribePosition(position: StartingPosition): SdkStartingPosition {
  switch (position.type) {
    case 'AT_SEQUENCE_NUMBER':
    case 'AFTER_SEQUENCE_NUMBER':
      return { Type: position.type, SequenceNumber: position.sequenceNumber }
    case 'AT_TIMESTAMP':
      return { Type: 'AT_TIMESTAMP', Timestamp: position.timestamp }
    default:
      return { Type: position.type }
  }
}

export type IteratorPosition = Pick<
  GetShardIteratorCommandInput,
  'ShardIteratorType' | 'StartingSequenceNumber' | 'Timestamp'
>

/** Where a GetShardIterator starts: the same position under GetShardIterator's field names. */
export function iteratorPosition(position: StartingPosition): IteratorPosition {
  const { Type, SequenceNumber, Timestamp } = subscribePosition(position)
  return {
    ShardIteratorType: Type,
    ...(SequenceNumber !== undefined ? { StartingSequenceNumber: SequenceNumber } : {}),
    ...(Timestamp !== undefined ? { Timestamp } : {}),
  }
}

import { createRequire } from 'node:module'
import { GetRecordsCommand, GetShardIteratorCommand, type KinesisClient } from '@aws-sdk/client-kinesis'
import { decodeAggregated } from '@kinesis-ts/shared'
import { listAllShards } from '../../support/aws.js'

export interface StoredRecord {
  readonly shardId: string
  readonly sequenceNumber: string
  readonly partitionKey: string
  readonly explicitHashKey: string | undefined
  readonly data: Buffer
}

export interface UserRecordRead {
  readonly shardId: string
  readonly sequenceNumber: string
  readonly subSequenceNumber: number
  readonly partitionKey: string
  readonly explicitHashKey: string | undefined
  readonly data: Buffer
}

/** Every record stored in every shard (open and closed), from TRIM_HORIZON until caught up. */
export async function readStream(kinesis: KinesisClient, streamName: string): Promise<StoredRecord[]> {
  const out: StoredRecord[] = []
  for (const shard of await listAllShards(kinesis, streamName)) {
    const shardId = shard.ShardId!
    let iterator = (
      await kinesis.send(
        new GetShardIteratorCommand({ StreamName: streamName, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }),
      )
    ).ShardIterator
    while (iterator) {
      const page = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }))
      for (const record of page.Records ?? []) {
        out.push({
          shardId,
          sequenceNumber: record.SequenceNumber!,
          partitionKey: record.PartitionKey!,
          explicitHashKey: (record as { ExplicitHashKey?: string }).ExplicitHashKey,
          data: Buffer.from(record.Data!),
        })
      }
      if ((page.Records ?? []).length === 0 && (page.MillisBehindLatest ?? 0) === 0) break
      iterator = page.NextShardIterator
    }
  }
  return out
}

/** Our decoder's view of the stored records: user records with their sub-sequence numbers. */
export function deaggregate(stored: readonly StoredRecord[]): UserRecordRead[] {
  return stored.flatMap((record) =>
    decodeAggregated(record.data, { partitionKey: record.partitionKey, explicitHashKey: record.explicitHashKey }).map(
      (user) => ({
        shardId: record.shardId,
        sequenceNumber: record.sequenceNumber,
        subSequenceNumber: user.subSequenceNumber,
        partitionKey: user.partitionKey,
        explicitHashKey: user.explicitHashKey,
        data: Buffer.from(user.data),
      }),
    ),
  )
}

interface AggUserRecord {
  partitionKey: string
  explicitPartitionKey?: string
  data: Buffer
}

const agg = createRequire(import.meta.url)('aws-kinesis-agg') as {
  deaggregateSync(
    record: { partitionKey: string; explicitPartitionKey?: string; sequenceNumber: string; data: string },
    computeChecksums: boolean,
    afterRecordCallback: (error: Error | null, records?: AggUserRecord[]) => void,
  ): void
}

/** aws-kinesis-agg's view, as an independent oracle: partition key and data of each user record. */
export function deaggregateWithAwsKinesisAgg(
  stored: readonly StoredRecord[],
): { partitionKey: string; data: Buffer }[] {
  const out: { partitionKey: string; data: Buffer }[] = []
  for (const record of stored) {
    agg.deaggregateSync(
      {
        partitionKey: record.partitionKey,
        sequenceNumber: record.sequenceNumber,
        data: record.data.toString('base64'),
        ...(record.explicitHashKey === undefined ? {} : { explicitPartitionKey: record.explicitHashKey }),
      },
      true,
      (error, records) => {
        if (error) throw error
        for (const user of records ?? []) out.push({ partitionKey: user.partitionKey, data: Buffer.from(user.data) })
      },
    )
  }
  return out
}

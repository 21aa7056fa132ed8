import { GetRecordsCommand, GetShardIteratorCommand, type KinesisClient, type Shard } from '@aws-sdk/client-kinesis'
import { decodeAggregated, listAllShards, sleep } from '@kinesis-ts/shared'

/** A user record of a stream, KPL aggregates split. */
export interface StreamRecord {
  readonly shardId: string
  readonly sequenceNumber: string
  readonly subSequenceNumber: number
  readonly partitionKey: string
  readonly explicitHashKey: string | undefined
  readonly data: Uint8Array
}

/** Shards with their parents first, so records of one key come in the order they were put across a reshard. */
export function parentsFirst<S extends Pick<Shard, 'ShardId' | 'ParentShardId' | 'AdjacentParentShardId'>>(
  shards: readonly S[],
): S[] {
  const byId = new Map(shards.map((shard) => [shard.ShardId, shard]))
  const ordered: S[] = []
  const placed = new Set<string | undefined>()
  const place = (shard: S) => {
    if (placed.has(shard.ShardId)) return
    placed.add(shard.ShardId)
    for (const parent of [shard.ParentShardId, shard.AdjacentParentShardId]) {
      const known = parent === undefined ? undefined : byId.get(parent)
      if (known !== undefined) place(known)
    }
    ordered.push(shard)
  }
  for (const shard of shards) place(shard)
  return ordered
}

/**
 * Every record the stream holds now, shard by shard from TRIM_HORIZON: a closed shard to its end, an
 * open one until a read comes back empty and caught up (records put meanwhile may or may not be read).
 */
export async function* readStream(
  kinesis: KinesisClient,
  streamName: string,
  signal: AbortSignal,
): AsyncIterable<StreamRecord> {
  const shards = parentsFirst(await listAllShards(kinesis, { streamName, signal }))
  for (const shard of shards) {
    const shardId = shard.ShardId ?? ''
    const start = await kinesis.send(
      new GetShardIteratorCommand({ StreamName: streamName, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }),
      { abortSignal: signal },
    )
    let iterator = start.ShardIterator
    while (iterator !== undefined && !signal.aborted) {
      const page = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }), {
        abortSignal: signal,
      })
      const records = page.Records ?? []
      for (const record of records) {
        const users = decodeAggregated(record.Data ?? new Uint8Array(), { partitionKey: record.PartitionKey ?? '' })
        for (const user of users) {
          yield {
            shardId,
            sequenceNumber: record.SequenceNumber ?? '',
            subSequenceNumber: user.subSequenceNumber,
            partitionKey: user.partitionKey,
            explicitHashKey: user.explicitHashKey,
            data: user.data,
          }
        }
      }
      iterator = page.NextShardIterator
      if (records.length === 0) {
        if ((page.MillisBehindLatest ?? 0) === 0) break
        // Empty but behind (a sparse shard): the service asks for a short pause between reads.
        await sleep(200, signal)
      }
    }
  }
}

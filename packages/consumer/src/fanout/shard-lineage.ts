import { type KinesisClient, ListShardsCommand, type Shard } from '@aws-sdk/client-kinesis'
import type { ChildShardInfo } from '../seams.js'
import { type StreamRef, streamParameter } from '../stream-ref.js'

export interface ShardClosure {
  /** ListShards shows an ending sequence number for the shard. */
  readonly closed: boolean
  readonly children: ChildShardInfo[]
}

/**
 * Whether a shard is closed and which shards descend from it, from one ListShards listing: for
 * services that end a subscription without ChildShards, or never end it at all (kinesis-local).
 */
export async function shardClosure(
  kinesis: KinesisClient,
  stream: StreamRef,
  shardId: string,
  signal: AbortSignal,
): Promise<ShardClosure> {
  const shards: Shard[] = []
  let nextToken: string | undefined
  do {
    const input = nextToken === undefined ? streamParameter(stream) : { NextToken: nextToken }
    const page = await kinesis.send(new ListShardsCommand(input), { abortSignal: signal })
    shards.push(...(page.Shards ?? []))
    nextToken = page.NextToken
  } while (nextToken !== undefined)
  const self = shards.find((shard) => shard.ShardId === shardId)
  const children = shards
    .filter((shard) => shard.ParentShardId === shardId || shard.AdjacentParentShardId === shardId)
    .map((shard) => ({
      shardId: shard.ShardId ?? '',
      parentShards: [shard.ParentShardId, shard.AdjacentParentShardId].filter((id): id is string => id !== undefined),
      hashKeyRange: {
        startingHashKey: shard.HashKeyRange?.StartingHashKey ?? '0',
        endingHashKey: shard.HashKeyRange?.EndingHashKey ?? '0',
      },
    }))
  return { closed: self?.SequenceNumberRange?.EndingSequenceNumber !== undefined, children }
}

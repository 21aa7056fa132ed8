import { type KinesisClient, ListShardsCommand, type Shard, type ShardFilter } from '@aws-sdk/client-kinesis'
import { toAwsCallError } from '@kinesis-ts/shared'
import type { ResolvedInitialPosition } from '../config.js'
import { type StreamRef, streamParameter } from '../stream-ref.js'

/** The ListShards filter that returns the shards to start from at an initial position. */
export function shardFilterFor(position: ResolvedInitialPosition): ShardFilter {
  if (position.type === 'TRIM_HORIZON') return { Type: 'AT_TRIM_HORIZON' }
  if (position.type === 'LATEST') return { Type: 'AT_LATEST' }
  return { Type: 'AT_TIMESTAMP', Timestamp: position.timestamp }
}

/** Every page of ListShards, optionally filtered. */
export async function listShards(
  kinesis: KinesisClient,
  stream: StreamRef,
  filter: ShardFilter | undefined,
  signal?: AbortSignal,
): Promise<Shard[]> {
  const shards: Shard[] = []
  let nextToken: string | undefined
  do {
    try {
      const page = await kinesis.send(
        new ListShardsCommand(
          nextToken === undefined ? { ...streamParameter(stream), ShardFilter: filter } : { NextToken: nextToken },
        ),
        { abortSignal: signal },
      )
      shards.push(...(page.Shards ?? []))
      nextToken = page.NextToken
    } catch (error) {
      throw toAwsCallError('ListShards', error)
    }
  } while (nextToken !== undefined)
  return shards
}

export function parentsOf(shard: Shard): string[] {
  return [shard.ParentShardId, shard.AdjacentParentShardId].filter((id): id is string => id !== undefined)
}

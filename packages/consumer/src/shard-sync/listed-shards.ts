import type { Shard, ShardFilter } from '@aws-sdk/client-kinesis'
import type { ResolvedInitialPosition } from '../config.js'
import type { ChildShardInfo } from '../seams.js'

/** The ListShards filter that returns the shards to start from at an initial position. */
export function shardFilterFor(position: ResolvedInitialPosition): ShardFilter {
  if (position.type === 'TRIM_HORIZON') return { Type: 'AT_TRIM_HORIZON' }
  if (position.type === 'LATEST') return { Type: 'AT_LATEST' }
  return { Type: 'AT_TIMESTAMP', Timestamp: position.timestamp }
}

export function parentsOf(shard: Shard): string[] {
  return [shard.ParentShardId, shard.AdjacentParentShardId].filter((id): id is string => id !== undefined)
}

/** The shard's hash range, or undefined when the listing left it out. */
export function rangeOf(shard: Shard): ChildShardInfo['hashKeyRange'] | undefined {
  const range = shard.HashKeyRange
  return range?.StartingHashKey === undefined || range.EndingHashKey === undefined
    ? undefined
    : { startingHashKey: range.StartingHashKey, endingHashKey: range.EndingHashKey }
}

/**
 * The children of `shardId` in a ListShards listing. A listed shard without an id or a hash range is
 * left out rather than given a made-up one: it would become a lease no shard matches.
 */
export function childShardsIn(shards: readonly Shard[], shardId: string): ChildShardInfo[] {
  const children: ChildShardInfo[] = []
  for (const shard of shards) {
    const range = rangeOf(shard)
    const parentShards = parentsOf(shard)
    if (shard.ShardId === undefined || range === undefined || !parentShards.includes(shardId)) continue
    children.push({ shardId: shard.ShardId, parentShards, hashKeyRange: range })
  }
  return children
}

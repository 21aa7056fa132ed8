import type { KinesisClient } from '@aws-sdk/client-kinesis'
import { listAllShards } from '@kinesis-ts/shared'
import type { ChildShardInfo } from '../seams.js'
import { childShardsIn } from '../shard-sync/listed-shards.js'
import type { StreamRef } from '../stream-ref.js'

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
  const shards = await listAllShards(kinesis, { ...stream, signal })
  const self = shards.find((shard) => shard.ShardId === shardId)
  return {
    closed: self?.SequenceNumberRange?.EndingSequenceNumber !== undefined,
    children: childShardsIn(shards, shardId),
  }
}

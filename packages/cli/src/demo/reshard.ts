import { type KinesisClient, SplitShardCommand } from '@aws-sdk/client-kinesis'
import { listAllShards } from '@kinesis-ts/shared'
import { waitForStreamActive } from '../streams.js'

export interface SplitResult {
  readonly parent: string
  readonly children: string[]
}

/** Splits the stream's first open shard at the middle of its hash range and waits for the children. */
export async function splitOneShard(
  kinesis: KinesisClient,
  streamName: string,
  signal: AbortSignal,
): Promise<SplitResult> {
  const before = await openShards(kinesis, streamName, signal)
  const parent = before[0]
  if (parent === undefined) throw new Error(`stream ${streamName} has no open shard`)
  const start = BigInt(parent.HashKeyRange!.StartingHashKey!)
  const end = BigInt(parent.HashKeyRange!.EndingHashKey!)
  await kinesis.send(
    new SplitShardCommand({
      StreamName: streamName,
      ShardToSplit: parent.ShardId,
      NewStartingHashKey: ((start + end + 1n) / 2n).toString(),
    }),
    { abortSignal: signal },
  )
  await waitForStreamActive(kinesis, streamName, signal)
  const after = await openShards(kinesis, streamName, signal)
  const children = after.filter((shard) => shard.ParentShardId === parent.ShardId).map((shard) => shard.ShardId!)
  return { parent: parent.ShardId!, children }
}

function openShards(kinesis: KinesisClient, streamName: string, signal: AbortSignal) {
  return listAllShards(kinesis, { streamName, filter: { Type: 'AT_LATEST' }, signal })
}

import { randomUUID } from 'node:crypto'
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  type KinesisClient,
  type Shard,
} from '@aws-sdk/client-kinesis'
import { listAllShards, sleep } from '@kinesis-ts/shared'

/** A new stream of `shards` shards on kinesis-local, once ACTIVE. */
export async function createStream(kinesis: KinesisClient, shards: number): Promise<string> {
  const name = `bench-${randomUUID().slice(0, 8)}`
  await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }))
  for (;;) {
    const s = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }))
    if (s.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return name
    await sleep(25)
  }
}

/** A new stream and its shards (with their hash key ranges). */
export async function createStreamWithShards(
  kinesis: KinesisClient,
  shards: number,
): Promise<{ stream: string; shards: Shard[] }> {
  const stream = await createStream(kinesis, shards)
  return { stream, shards: await listAllShards(kinesis, { streamName: stream }) }
}

import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  type KinesisClient,
  ResourceInUseException,
} from '@aws-sdk/client-kinesis'
import { sleep } from '@kinesis-ts/shared'

/** Creates the stream if it does not exist and waits until it is ACTIVE. Returns true if it was created. */
export async function ensureStream(
  kinesis: KinesisClient,
  streamName: string,
  shardCount: number,
  signal?: AbortSignal,
): Promise<boolean> {
  let created = true
  try {
    await kinesis.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: shardCount }), {
      abortSignal: signal,
    })
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error
    created = false
  }
  await waitForStreamActive(kinesis, streamName, signal)
  return created
}

export async function waitForStreamActive(
  kinesis: KinesisClient,
  streamName: string,
  signal?: AbortSignal,
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const { StreamDescriptionSummary: summary } = await kinesis.send(
      new DescribeStreamSummaryCommand({ StreamName: streamName }),
      { abortSignal: signal },
    )
    if (summary?.StreamStatus === 'ACTIVE') return
    if (Date.now() > deadline) throw new Error(`stream ${streamName} is not ACTIVE after ${timeoutMs} ms`)
    await sleep(50, signal)
  }
}

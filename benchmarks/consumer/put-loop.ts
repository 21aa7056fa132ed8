import { type KinesisClient, PutRecordsCommand, type Shard } from '@aws-sdk/client-kinesis'
import { sleep } from '@kinesis-ts/shared'

export interface PutLoop {
  /** PutRecords calls that failed, and entries refused; either leaves a shard without that round's record. */
  readonly failures: () => { calls: number; entries: number }
  stop(): Promise<void>
}

/**
 * One record into every shard (by explicit hash key) each `intervalMs` until stopped, so every shard
 * always has a next record to process whoever holds its lease.
 */
export function startPutLoop(
  kinesis: KinesisClient,
  stream: string,
  shards: readonly Shard[],
  intervalMs: number,
): PutLoop {
  let stopped = false
  let round = 0
  const failed = { calls: 0, entries: 0 }
  const done = (async () => {
    while (!stopped) {
      const started = performance.now()
      try {
        const out = await kinesis.send(
          new PutRecordsCommand({
            StreamName: stream,
            Records: shards.map((shard) => ({
              PartitionKey: 'k',
              ExplicitHashKey: shard.HashKeyRange!.StartingHashKey!,
              Data: Buffer.from(String(round)),
            })),
          }),
        )
        failed.entries += out.FailedRecordCount ?? 0
      } catch {
        failed.calls++
      }
      round++
      await sleep(Math.max(0, intervalMs - (performance.now() - started)))
    }
  })()
  const loop: PutLoop = {
    failures: () => ({ ...failed }),
    async stop() {
      stopped = true
      await done
    },
  }
  return loop
}

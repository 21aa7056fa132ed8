import { type KinesisClient, MergeShardsCommand, type Shard, SplitShardCommand } from '@aws-sdk/client-kinesis'
import { sleep } from '@kinesis-ts/shared'
import { expect } from 'vitest'
import { waitForStreamActive } from '../../support/aws.js'
import { type Journal, putAll } from './harness.js'

/*
 * The steps the 2.x and 3.x lineage tests share: a keyed producer numbering each key's records, a
 * split of one shard and a merge of two others during consumption, and the check that no child
 * shard started before its parents ended.
 */

/** Puts one record per key per round (`key-k:round`), pausing `pauseMs` between rounds, until stopped. */
export function produceRounds(kinesis: KinesisClient, streamName: string, keys: number, pauseMs: number) {
  let rounds = 0
  let stopped = false
  const done = (async () => {
    while (!stopped) {
      const round = rounds
      await putAll(
        kinesis,
        streamName,
        Array.from({ length: keys }, (_, k) => ({ partitionKey: `key-${k}`, data: Buffer.from(`key-${k}:${round}`) })),
      )
      rounds++
      await sleep(pauseMs)
    }
  })()
  return {
    /** Resolves with the number of full rounds put. */
    stop: async () => {
      stopped = true
      await done
      return rounds
    },
  }
}

/** Splits `toSplit` at the middle of its hash range, then merges `mergeA` with `mergeB`, each once the stream is active. */
export async function splitThenMerge(
  kinesis: KinesisClient,
  streamName: string,
  toSplit: Shard,
  mergeA: Shard,
  mergeB: Shard,
): Promise<void> {
  const start = BigInt(toSplit.HashKeyRange!.StartingHashKey!)
  const end = BigInt(toSplit.HashKeyRange!.EndingHashKey!)
  await kinesis.send(
    new SplitShardCommand({
      StreamName: streamName,
      ShardToSplit: toSplit.ShardId!,
      NewStartingHashKey: ((start + end) / 2n).toString(),
    }),
  )
  await sleep(50)
  await waitForStreamActive(kinesis, streamName)
  await sleep(500)
  await kinesis.send(
    new MergeShardsCommand({
      StreamName: streamName,
      ShardToMerge: mergeA.ShardId!,
      AdjacentShardToMerge: mergeB.ShardId!,
    }),
  )
  await sleep(50)
  await waitForStreamActive(kinesis, streamName)
}

/** Every child shard was initialised, and only after each of its parents reached SHARD_END. */
export function expectChildrenAfterParents(journal: Journal, children: readonly Shard[]): void {
  const ended = new Map(journal.callsOf('shardEnded').map((c) => [c.shardId, c.at]))
  for (const child of children) {
    const parents = [child.ParentShardId!, child.AdjacentParentShardId].filter((p): p is string => p !== undefined)
    const initialized = journal.callsOf('initialize').filter((c) => c.shardId === child.ShardId)
    expect(initialized.length, `${child.ShardId} initialized`).toBeGreaterThan(0)
    for (const parent of parents) {
      expect(ended.get(parent), `${parent} ended`).toBeDefined()
      expect(initialized[0]!.at).toBeGreaterThanOrEqual(ended.get(parent)!)
    }
  }
}

import { MergeShardsCommand, SplitShardCommand } from '@aws-sdk/client-kinesis'
import { sleep } from '@kinesis-ts/shared'
import { afterAll, describe, expect, it } from 'vitest'
import { createStream, kinesisClient, listAllShards, uniqueName, waitForStreamActive } from '../support/aws.js'
import { Fleet, expectPerKeyOrder, putAll, waitFor } from './support/harness.js'

const kinesis = kinesisClient()
afterAll(() => kinesis.destroy())

const KEYS = 60

/** Puts one record per key per round, numbering each key's records, until stopped. */
function produce(streamName: string) {
  let rounds = 0
  let stopped = false
  const done = (async () => {
    while (!stopped) {
      const round = rounds
      await putAll(
        kinesis,
        streamName,
        Array.from({ length: KEYS }, (_, k) => ({ partitionKey: `key-${k}`, data: Buffer.from(`key-${k}:${round}`) })),
      )
      rounds++
      await sleep(50)
    }
  })()
  return {
    stop: async () => {
      stopped = true
      await done
      return rounds
    },
  }
}

describe('shard lineage', () => {
  it('split and merge during consumption: children start after their parents end, nothing lost, per-key order kept', async () => {
    const stream = await createStream(kinesis, 3)
    const fleet = new Fleet(stream, uniqueName('app'))
    try {
      await fleet.start('a')
      await fleet.start('b')
      const producer = produce(stream)
      await waitFor('first records', () => fleet.journal.deliveries.length > 3 * KEYS)

      const [first, second, third] = await listAllShards(kinesis, stream)
      const start = BigInt(first!.HashKeyRange!.StartingHashKey!)
      const end = BigInt(first!.HashKeyRange!.EndingHashKey!)
      await kinesis.send(
        new SplitShardCommand({
          StreamName: stream,
          ShardToSplit: first!.ShardId!,
          NewStartingHashKey: ((start + end) / 2n).toString(),
        }),
      )
      await sleep(50)
      await waitForStreamActive(kinesis, stream)
      await sleep(500)
      await kinesis.send(
        new MergeShardsCommand({
          StreamName: stream,
          ShardToMerge: second!.ShardId!,
          AdjacentShardToMerge: third!.ShardId!,
        }),
      )
      await sleep(50)
      await waitForStreamActive(kinesis, stream)
      await sleep(1_000)
      const rounds = await producer.stop()

      await waitFor('every record', () => fleet.journal.distinctData().size === rounds * KEYS, 60_000)
      expectPerKeyOrder(fleet.journal.byKey(), rounds)

      const shards = await listAllShards(kinesis, stream)
      const children = shards.filter((s) => s.ParentShardId !== undefined)
      expect(children).toHaveLength(3)
      const ended = new Map(fleet.journal.callsOf('shardEnded').map((c) => [c.shardId, c.at]))
      for (const child of children) {
        const parents = [child.ParentShardId!, child.AdjacentParentShardId].filter((p): p is string => p !== undefined)
        const initialized = fleet.journal.callsOf('initialize').filter((c) => c.shardId === child.ShardId)
        expect(initialized.length, `${child.ShardId} initialized`).toBeGreaterThan(0)
        for (const parent of parents) {
          expect(ended.get(parent), `${parent} ended`).toBeDefined()
          expect(initialized[0]!.at).toBeGreaterThanOrEqual(ended.get(parent)!)
        }
      }
      // Finished parents are cleaned up once their children have progressed; children keep their lineage.
      await waitFor('parent leases deleted', async () => {
        const leases = await fleet.leases()
        return [first, second, third].every((p) => !leases.has(p!.ShardId!))
      })
      const leases = await fleet.leases()
      const merged = children.find((c) => c.AdjacentParentShardId !== undefined)!
      expect([...leases.get(merged.ShardId!)!.parentShardIds].sort()).toEqual([second!.ShardId, third!.ShardId].sort())
    } finally {
      await fleet.close()
    }
  })
})

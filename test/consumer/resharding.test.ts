import { sleep } from '@kinesis-ts/shared'
import { afterAll, describe, expect, it } from 'vitest'
import { createStream, kinesisClient, listAllShards, uniqueName } from '../support/aws.js'
import { Fleet, expectPerKeyOrder, waitFor } from './support/harness.js'
import { expectChildrenAfterParents, produceRounds, splitThenMerge } from './support/resharding.js'

const kinesis = kinesisClient()
afterAll(() => kinesis.destroy())

const KEYS = 60

describe('shard lineage', () => {
  it('split and merge during consumption: children start after their parents end, nothing lost, per-key order kept', async () => {
    const stream = await createStream(kinesis, 3)
    const fleet = new Fleet(stream, uniqueName('app'))
    try {
      await fleet.start('a')
      await fleet.start('b')
      const producer = produceRounds(kinesis, stream, KEYS, 50)
      await waitFor('first records', () => fleet.journal.deliveries.length > 3 * KEYS)

      const [first, second, third] = await listAllShards(kinesis, stream)
      await splitThenMerge(kinesis, stream, first!, second!, third!)
      await sleep(1_000)
      const rounds = await producer.stop()

      await waitFor('every record', () => fleet.journal.distinctData().size === rounds * KEYS, 60_000)
      expectPerKeyOrder(fleet.journal.byKey(), rounds)

      const shards = await listAllShards(kinesis, stream)
      const children = shards.filter((s) => s.ParentShardId !== undefined)
      expect(children).toHaveLength(3)
      expectChildrenAfterParents(fleet.journal, children)
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

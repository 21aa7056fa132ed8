import { afterAll, describe, expect, it } from 'vitest'
import { createStream, kinesisClient, uniqueName } from '../support/aws.js'
import { FAST, Fleet, putAll, waitFor } from './support/harness.js'
import { compareSequence } from './support/sequence.js'

const kinesis = kinesisClient()
afterAll(() => kinesis.destroy())

const batch = (tag: string, count: number) =>
  Array.from({ length: count }, (_, i) => ({ partitionKey: `key-${i % 40}`, data: Buffer.from(`${tag}-${i}`) }))

describe('failover', () => {
  it('a killed worker keeps its leases until they expire; the survivor resumes from its checkpoints', async () => {
    const stream = await createStream(kinesis, 4)
    const fleet = new Fleet(stream, uniqueName('app'))
    try {
      const aBehaviour = { checkpointEachBatch: true }
      const a = await fleet.start('a', {}, aBehaviour)
      await waitFor('a holds all leases', () => a.leases.length === 4)
      const b = await fleet.start('b')
      await waitFor('2/2 leases', () => a.leases.length === 2 && b.leases.length === 2)

      await putAll(kinesis, stream, batch('one', 200))
      await waitFor('first batch', () => fleet.journal.distinctData().size === 200)
      // Records a processes from now on are never checkpointed: they must come again, from b.
      aBehaviour.checkpointEachBatch = false
      await putAll(kinesis, stream, batch('two', 200))
      await waitFor('second batch', () => fleet.journal.distinctData().size === 400)

      const aShards = [...a.leases]
      const checkpoints = await fleet.leases()
      const killedAt = Date.now()
      await a.destroy()
      const taken: number[] = []
      b.on('consumer.lease_taken', () => taken.push(Date.now()))
      await waitFor('b takes over', () => b.leases.length === 4, 20_000)
      // Expiry is judged by watching the counter stand still for failoverTimeMillis since its last
      // change, and a's last renewal came up to one renewal interval (failover / 3) before the kill.
      expect(Math.min(...taken) - killedAt).toBeGreaterThanOrEqual((FAST.failoverTimeMillis * 2) / 3)

      await putAll(kinesis, stream, batch('three', 200))
      await waitFor('third batch', () => fleet.journal.distinctData().size === 600)

      const replayedByB = fleet.journal.deliveries.filter((d) => d.workerId === 'b' && aShards.includes(d.shardId))
      for (const shardId of aShards) {
        const checkpoint = checkpoints.get(shardId)!.checkpoint
        const fromB = replayedByB.filter((d) => d.shardId === shardId)
        // Nothing at or below a's checkpoint comes again...
        for (const d of fromB) expect(compareSequence(d, checkpoint)).toBeGreaterThan(0)
        // ...and everything a processed without checkpointing does.
        const uncheckpointed = fleet.journal.deliveries.filter(
          (d) => d.workerId === 'a' && d.shardId === shardId && compareSequence(d, checkpoint) > 0,
        )
        const again = new Set(fromB.map((d) => d.data))
        for (const d of uncheckpointed) expect(again.has(d.data), d.data).toBe(true)
      }
      const duplicates = fleet.journal.deliveries.length - fleet.journal.distinctData().size
      expect(duplicates).toBeGreaterThan(0)
      expect(fleet.journal.deliveries.filter((d) => d.data.startsWith('two')).length).toBe(200 + duplicates)
    } finally {
      await fleet.close()
    }
  })

  it('graceful shutdown checkpoints, releases the leases and the other worker processes them within 2 s', async () => {
    const stream = await createStream(kinesis, 4)
    const fleet = new Fleet(stream, uniqueName('app'))
    try {
      const a = await fleet.start('a')
      await waitFor('a holds all leases', () => a.leases.length === 4)
      const b = await fleet.start('b')
      await waitFor('2/2 leases', () => a.leases.length === 2 && b.leases.length === 2)
      await putAll(kinesis, stream, batch('one', 200))
      await waitFor('first batch', () => fleet.journal.distinctData().size === 200)

      const aShards = [...a.leases]
      const started = new Map<string, number>()
      b.on('consumer.shard_started', ({ shardId }) => started.set(shardId, Date.now()))
      const shutdownAt = Date.now()
      await a.shutdown()
      await waitFor('b processes a’s shards', () => aShards.every((s) => started.has(s)), 10_000)
      const handoff = Math.max(...aShards.map((s) => started.get(s)!)) - shutdownAt
      expect(handoff).toBeLessThan(2_000)

      const shutdownCalls = fleet.journal.callsOf('shutdownRequested').filter((c) => c.workerId === 'a')
      expect(shutdownCalls.map((c) => c.shardId).sort()).toEqual([...aShards].sort())
      const leases = await fleet.leases()
      for (const shardId of aShards) {
        const lease = leases.get(shardId)!
        expect(lease.leaseOwner).toBe('b')
        // b started exactly at a's final checkpoint.
        const init = fleet.journal.callsOf('initialize').find((c) => c.workerId === 'b' && c.shardId === shardId)
        expect(init?.detail).toEqual(lease.checkpoint)
      }
      await putAll(kinesis, stream, batch('two', 200))
      await waitFor('second batch', () => fleet.journal.distinctData().size === 400)
      // A graceful handoff after checkpoints repeats nothing.
      expect(fleet.journal.deliveries).toHaveLength(400)
    } finally {
      await fleet.close()
    }
  })
})

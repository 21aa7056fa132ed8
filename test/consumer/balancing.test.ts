import { sleep } from '@kinesis-ts/shared'
import { afterAll, describe, expect, it } from 'vitest'
import { createStream, kinesisClient, uniqueName } from '../support/aws.js'
import { FAST, Fleet, expectPerKeyOrder, putAggregated, waitFor } from './support/harness.js'

const kinesis = kinesisClient()
afterAll(() => kinesis.destroy())

describe('lease balancing', () => {
  it('3 workers on 8 shards converge to 3/3/2 and process 50k records (KPL-aggregated) over 500 keys in per-key order', async () => {
    const stream = await createStream(kinesis, 8)
    const fleet = new Fleet(stream, uniqueName('app'))
    try {
      await Promise.all(['w1', 'w2', 'w3'].map((id) => fleet.start(id)))
      // What moved or was reset, to explain a failure below.
      const incidents: unknown[] = []
      for (const worker of fleet.workers) {
        worker.on('consumer.lease_lost', (e) => incidents.push({ lost: e }))
        worker.on('consumer.shard_stalled', (e) => incidents.push({ stalled: e }))
      }
      const t0 = Date.now()
      await waitFor(
        '3/3/2 leases',
        () => {
          const counts = fleet.workers.map((w) => w.leases.length).sort()
          if (process.env.DEBUG_CONSUMER) console.log(Date.now() - t0, counts.join())
          return counts.join() === '2,3,3'
        },
        20_000,
      )
      // Steals during convergence end in leaseLost (at the victim's next renewal); once balanced, nothing moves.
      await sleep(FAST.failoverTimeMillis)
      const lostWhileConverging = fleet.journal.callsOf('leaseLost').length
      const keys = 500
      const perKey = 100
      const records = []
      for (let i = 0; i < perKey; i++) {
        for (let k = 0; k < keys; k++) records.push({ partitionKey: `key-${k}`, data: Buffer.from(`key-${k}:${i}`) })
      }
      const started = Date.now()
      // KPL aggregates of 100 user records: kinesis-local takes ~1 ms per plain record.
      await putAggregated(kinesis, stream, records, 100)
      await waitFor('50k records', () => fleet.journal.distinctData().size === records.length, 120_000)
      if (process.env.DEBUG_CONSUMER) console.log(`consumed in ${Date.now() - started} ms`)
      const byKey = fleet.journal.byKey()
      expect(byKey.size).toBe(keys)
      expectPerKeyOrder(byKey, perKey)
      // Still balanced after the load: nobody stole or lost anything.
      expect(fleet.workers.map((w) => w.leases.length).sort()).toEqual([2, 3, 3])
      expect(fleet.journal.callsOf('leaseLost')).toHaveLength(lostWhileConverging)
      // Polled stats agree: every held shard is processing, and together they processed every record
      // (once the last processRecords calls, still checkpointing when the journal filled, return).
      const shards = () => fleet.workers.flatMap((w) => w.stats().shards)
      await waitFor('stats', () => shards().reduce((n, s) => n + s.recordsProcessed, 0) >= records.length).catch(
        (error: unknown) => {
          throw new Error(`${String(error)}: ${JSON.stringify({ stats: shards(), incidents })}`)
        },
      )
      expect(shards()).toHaveLength(8)
      expect(shards().filter((s) => s.state !== 'processing' || s.millisBehindLatest === undefined)).toEqual([])
    } finally {
      await fleet.close()
    }
  })
})

import { KPL_MAGIC, ShardMap, encodeAggregated, hashKeyOf } from '@kinesis-ts/shared'
import { afterAll, describe, expect, it } from 'vitest'
import { aggregateAll } from '../../benchmarks/lib/aws-kinesis-agg.js'
import type { ShardRecordProcessor } from '../../packages/consumer/src/index.js'
import { createStream, kinesisClient, listAllShards, uniqueName } from '../support/aws.js'
import { Fleet, keysFor, putAll, waitFor } from './support/harness.js'

const kinesis = kinesisClient()
afterAll(() => kinesis.destroy())

const text = (s: string) => Buffer.from(s)

describe('records', () => {
  it('deaggregates aws-kinesis-agg and kinesis-ts aggregates, passes corrupt ones through as plain records', async () => {
    const stream = await createStream(kinesis, 1)
    const fromAgg = await aggregateAll(
      Array.from({ length: 30 }, (_, i) => ({ partitionKey: `agg-key-${i % 7}`, data: text(`agg-${i}`) })),
    )
    const ours = encodeAggregated(
      Array.from({ length: 20 }, (_, i) => ({ partitionKey: `ts-key-${i % 3}`, data: text(`ts-${i}`) })),
    )
    // Right magic, then bytes that are not a protobuf body, and a checksum that does not match.
    const corrupt = Buffer.concat([Buffer.from(KPL_MAGIC), text('not a protobuf body at all'), Buffer.alloc(16, 7)])
    await putAll(kinesis, stream, [
      ...fromAgg.map((a) => ({ partitionKey: a.partitionKey, explicitHashKey: a.explicitHashKey, data: a.data })),
      { partitionKey: 'a', data: ours },
      { partitionKey: 'corrupt-key', data: corrupt },
      { partitionKey: 'plain-key', data: text('plain') },
    ])
    const fleet = new Fleet(stream, uniqueName('app'))
    try {
      await fleet.start('w')
      await waitFor('all records', () => fleet.journal.deliveries.length >= 30 + 20 + 2)
      const d = fleet.journal.deliveries
      expect(d.filter((r) => r.data.startsWith('agg-')).map((r) => r.data)).toEqual(
        Array.from({ length: 30 }, (_, i) => `agg-${i}`),
      )
      const tsRecords = d.filter((r) => r.data.startsWith('ts-'))
      expect(tsRecords.map((r) => [r.data, r.partitionKey, r.subSequenceNumber, r.aggregated])).toEqual(
        Array.from({ length: 20 }, (_, i) => [`ts-${i}`, `ts-key-${i % 3}`, i, true]),
      )
      expect(new Set(tsRecords.map((r) => r.sequenceNumber)).size).toBe(1)
      const corruptOut = d.find((r) => r.partitionKey === 'corrupt-key')!
      expect(corruptOut).toMatchObject({ aggregated: false, subSequenceNumber: 0 })
      expect(corruptOut.data).toBe(corrupt.toString())
      expect(d.find((r) => r.partitionKey === 'plain-key')).toMatchObject({ data: 'plain', aggregated: false })
      expect(d).toHaveLength(30 + 20 + 2)
    } finally {
      await fleet.close()
    }
  })

  it("drops sub-records whose hash key is outside the shard's range, as the Java KCL does", async () => {
    const stream = await createStream(kinesis, 2)
    const [s0, s1] = await listAllShards(kinesis, stream)
    const map = new ShardMap([s0!, s1!])
    const [in0, in1] = keysFor(map, s0!.ShardId!, 2, 'mine')
    const [out0, out1] = keysFor(map, s1!.ShardId!, 2, 'theirs')
    const records = [in0!, out0!, in1!, out1!].map((key) => ({ partitionKey: key, data: text(key) }))
    await putAll(kinesis, stream, [
      { partitionKey: 'a', explicitHashKey: hashKeyOf(in0!).toString(), data: encodeAggregated(records) },
      { partitionKey: 'after', explicitHashKey: hashKeyOf(in0!).toString(), data: text('after') },
    ])
    const fleet = new Fleet(stream, uniqueName('app'))
    try {
      await fleet.start('w')
      await waitFor('records', () => fleet.journal.deliveries.some((d) => d.data === 'after'))
      expect(fleet.journal.deliveries.map((d) => [d.data, d.subSequenceNumber])).toEqual([
        [in0, 0],
        [in1, 2],
        ['after', 0],
      ])
    } finally {
      await fleet.close()
    }
  })

  it('after a restart nothing at or below a mid-aggregate checkpoint comes again', async () => {
    const stream = await createStream(kinesis, 1)
    await putAll(kinesis, stream, [
      {
        partitionKey: 'a',
        data: encodeAggregated(
          Array.from({ length: 6 }, (_, i) => ({ partitionKey: `k${i}`, data: text(`sub-${i}`) })),
        ),
      },
      { partitionKey: 'p', data: text('plain-0') },
      { partitionKey: 'p', data: text('plain-1') },
    ])
    const fleet = new Fleet(stream, uniqueName('app'))
    try {
      let delivered = 0
      // Checkpoints at the third sub-record of the aggregate and never again.
      const checkpointAtThird: ShardRecordProcessor = {
        initialize() {},
        async processRecords({ records, checkpointer }) {
          const third = records.find((r) => r.subSequenceNumber === 2)
          if (third !== undefined) await checkpointer.checkpoint(third)
          delivered += records.length
        },
        leaseLost() {},
        shardEnded() {},
        shutdownRequested() {},
      }
      const first = await fleet.start('first', { processorFactory: () => checkpointAtThird })
      await waitFor('first pass', () => delivered === 8)
      await first.shutdown()
      const lease = (await fleet.leases()).values().next().value!
      expect(lease.checkpoint.subSequenceNumber).toBe(2)

      await fleet.start('second')
      await waitFor('second pass', () => fleet.journal.deliveries.length >= 5)
      expect(fleet.journal.deliveries.map((d) => d.data)).toEqual(['sub-3', 'sub-4', 'sub-5', 'plain-0', 'plain-1'])
      expect(fleet.journal.callsOf('initialize')[0]!.detail).toEqual(lease.checkpoint)
    } finally {
      await fleet.close()
    }
  })
})

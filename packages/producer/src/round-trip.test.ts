import { decodeAggregated } from '@kinesis-ts/shared'
import { describe, expect, it } from 'vitest'
import { PRODUCER_DEFAULTS } from './defaults.js'
import { KinesisProducer } from './kinesis-producer.js'
import { type StubEntry, stubKinesis } from './test-helpers.js'

const userData = (entries: readonly StubEntry[]) =>
  entries.flatMap((e) => decodeAggregated(e.data, e).map((u) => Buffer.from(u.data).toString()))

describe('KinesisProducer with preserveOrder at a 200 ms round trip', () => {
  it("sends everything that waited during a shard's round trip in its next request: more than aggregationMaxSize per round trip, in order", async () => {
    const stub = stubKinesis({ delayMs: 200 })
    const producer = new KinesisProducer({ streamName: 's', kinesisClient: stub.client })
    // The first record waits for the shard map, then goes alone.
    await producer.addUserRecord({ partitionKey: 'warm-up', data: 'x' })
    expect(stub.puts).toHaveLength(1)

    // 6000 records of 100 bytes over 50 keys, ~600 KB for one shard: a burst that fills an aggregate
    // (a full lane sends once the burst of adds is over), then the rest at once.
    const keys = 50
    const total = 6_000
    const pending = []
    for (let i = 0; i < total; i++) {
      if (i === 500) await new Promise((resolve) => setImmediate(resolve))
      const key = `key-${i % keys}`
      const data = `${key}/${String(Math.floor(i / keys)).padStart(4, '0')}/`.padEnd(100, '.')
      pending.push(producer.addUserRecord({ partitionKey: key, data }))
    }
    const results = await Promise.all(pending)
    await producer.close()

    const puts = stub.puts.slice(1)
    // The idle shard sent as soon as it held aggregationMaxSize bytes of records; all that came while
    // that request was in flight went in the next one, as one Kinesis record: two round trips for
    // ~600 KB, where one aggregate of aggregationMaxSize per round trip would have taken twelve.
    expect(puts.map((put) => put.entries.length)).toEqual([1, 1])
    const [first, second] = puts.map((put) => put.entries[0]!)
    expect(first!.data.length).toBeGreaterThan(PRODUCER_DEFAULTS.aggregationMaxSize)
    expect(first!.data.length).toBeLessThan(PRODUCER_DEFAULTS.aggregationMaxSize * 1.1)
    expect(second!.data.length).toBeGreaterThan(10 * PRODUCER_DEFAULTS.aggregationMaxSize)
    expect(second!.data.length).toBeLessThanOrEqual(1024 * 1024)
    expect(puts[1]!.at - puts[0]!.at).toBeGreaterThanOrEqual(199)
    expect(results.every((r) => r.successful)).toBe(true)

    // Every record once, and per key in the order added.
    const stored = userData(stub.stored.get('shardId-0') ?? []).slice(1)
    expect(stored).toHaveLength(total)
    const byKey = new Map<string, string[]>()
    for (const data of stored) {
      const [key, seq] = data.split('/') as [string, string]
      byKey.set(key, [...(byKey.get(key) ?? []), seq])
    }
    expect(byKey.size).toBe(keys)
    for (const seqs of byKey.values()) expect(seqs).toEqual([...seqs].sort())
  })
})

import { describe, expect, it } from 'vitest'
import { Collector } from './collector.js'
import type { KinesisRecord } from './pending.js'
import type { StreamTarget } from './stream-target.js'

const target = { key: 'name:s' } as StreamTarget

function kinesisRecord(shardId: string | undefined, bytes: number, users = 1): KinesisRecord {
  return {
    target,
    predictedShardId: shardId,
    mapVersion: 1,
    users: new Array(users).fill({}),
    data: new Uint8Array(0),
    partitionKey: 'k',
    explicitHashKey: undefined,
    bytes,
    oldestArrival: 0,
    tries: 0,
    lastEventAt: 0,
    notBefore: 0,
  }
}

const limits = (now = 0) => ({
  maxCount: 500,
  maxBytes: 5 * 1024 * 1024,
  now,
  expiredBefore: -1,
  onExpired: () => {},
})

describe('Collector', () => {
  it('takes at most 500 records per request', () => {
    const collector = new Collector(1_000_000)
    for (let i = 0; i < 700; i++) collector.add(kinesisRecord(undefined, 10), 0)
    expect(collector.take(limits()).records).toHaveLength(500)
    expect(collector.count).toBe(200)
  })

  it('takes at most 5 MiB per request, exactly at the limit', () => {
    const collector = new Collector(1_000_000)
    const mib = 1024 * 1024
    for (let i = 0; i < 6; i++) collector.add(kinesisRecord(undefined, mib), 0)
    const batch = collector.take(limits())
    expect(batch.records).toHaveLength(5)
    expect(batch.bytes).toBe(5 * mib)
  })

  it('keeps one request in flight per shard, and nothing of a shard after an aggregate in the same request', () => {
    const collector = new Collector(1_000_000)
    collector.add(kinesisRecord('a', 10), 0)
    collector.add(kinesisRecord('a', 10, 5), 0)
    collector.add(kinesisRecord('a', 10), 0)
    collector.add(kinesisRecord('b', 10), 0)
    const first = collector.take(limits())
    expect(first.records.map((r) => r.predictedShardId)).toEqual(['a', 'a', 'b'])
    // Shard a is busy until its request returns; b too.
    expect(collector.take(limits()).records).toHaveLength(0)
    collector.release(first)
    expect(collector.take(limits()).records.map((r) => r.users.length)).toEqual([1])
  })

  it('without preserveOrder, puts several aggregates of a shard in one request and lets requests overlap', () => {
    const collector = new Collector(1_000_000, false)
    collector.add(kinesisRecord('a', 10, 5), 0)
    collector.add(kinesisRecord('a', 10, 5), 0)
    collector.add(kinesisRecord('b', 10), 0)
    const first = collector.take(limits())
    expect(first.records.map((r) => r.predictedShardId)).toEqual(['a', 'a', 'b'])
    collector.add(kinesisRecord('a', 10, 5), 0)
    // Shard a is not held while the first request is in flight.
    expect(collector.take(limits()).records.map((r) => r.predictedShardId)).toEqual(['a'])
  })

  it('holds records of a shard out of rate tokens and says when they may go', () => {
    // 1% of the shard limit: 10 records/s.
    const collector = new Collector(1)
    for (let i = 0; i < 20; i++) collector.add(kinesisRecord('a', 100), 0)
    const batch = collector.take(limits(0))
    expect(batch.records).toHaveLength(10)
    collector.release(batch)
    const held = collector.take(limits(0))
    expect(held.records).toHaveLength(0)
    expect(held.waitMs).toBeGreaterThan(0)
    expect(held.waitMs).toBeLessThanOrEqual(100)
    expect(collector.take(limits(1000)).records).toHaveLength(10)
  })

  it('expires records past their TTL instead of sending them', () => {
    const collector = new Collector(1_000_000)
    collector.add(kinesisRecord(undefined, 10), 0)
    const expired: KinesisRecord[] = []
    const batch = collector.take({ ...limits(), expiredBefore: 1, onExpired: (r) => expired.push(r) })
    expect(batch.records).toHaveLength(0)
    expect(expired).toHaveLength(1)
    expect(collector.count).toBe(0)
  })
})

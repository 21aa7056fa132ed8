import { describe, expect, it } from 'vitest'
import { EntryBuilder } from './aggregator.js'
import { Collector, type CollectorOptions } from './collector.js'
import { Lanes, type ShardLane } from './lanes.js'
import type { PendingUserRecord } from './pending.js'
import { type TestUser, testTarget, testUser } from './test-helpers.js'

const defaults: CollectorOptions = {
  preserveOrder: true,
  aggregationEnabled: true,
  aggregationMaxSize: 51_200,
  aggregationMaxCount: 4_294_967_295,
  collectionMaxCount: 500,
  collectionMaxSize: 5 * 1024 * 1024,
  recordMaxBufferedTime: 100,
  recordTtl: 30_000,
}

function setUp(options: Partial<CollectorOptions> = {}, rateLimit = 1_000_000) {
  const lanes = new Lanes(rateLimit)
  const expired: PendingUserRecord[] = []
  const collector = new Collector(
    { ...defaults, ...options },
    {
      lanes,
      builder: new EntryBuilder(options.aggregationMaxCount ?? defaults.aggregationMaxCount),
      expire: (_lane, users) => expired.push(...users),
      flushGeneration: () => 0,
    },
  )
  const add = (shardId: string | undefined, users: TestUser[]): ShardLane => {
    const lane = lanes.laneFor(testTarget, shardId, 0)
    for (const user of users) lanes.push(lane, user)
    return lane
  }
  return { lanes, collector, expired, add }
}

const users = (count: number, size: number, key = (i: number) => `k${i}`, arrivedAt = 0) =>
  Array.from({ length: count }, (_, i) => testUser(key(i), size, { arrivedAt }))

describe('Collector', () => {
  it('with preserveOrder, takes one Kinesis record per shard per request and holds the shard until its response', () => {
    const { collector, add } = setUp()
    const a = add('a', users(15_000, 100))
    add('b', users(10, 100))
    const first = collector.take(1_000).batch!
    expect(first.records.map((r) => r.predictedShardId)).toEqual(['a', 'b'])
    expect(first.lanes.map((lane) => lane.shardId)).toEqual(['a', 'b'])
    expect(a.inFlight).toBe(1)
    // Shard a still holds records, but its request is in flight; b is empty.
    expect(collector.take(1_000)).toEqual({ batch: undefined, wakeAt: Number.POSITIVE_INFINITY })
    a.inFlight--
    expect(collector.take(1_000).batch!.records.map((r) => r.predictedShardId)).toEqual(['a'])
  })

  it('with preserveOrder and records sent as they are, takes a run of distinct partition keys per shard, stopping at a repeated key', () => {
    const { collector, add } = setUp({ aggregationEnabled: false })
    add(
      'a',
      users(6, 10, (i) => ['x', 'y', 'z', 'y', 'w', 'v'][i]!),
    )
    const batch = collector.take(1_000).batch!
    expect(batch.records.map((r) => r.partitionKey)).toEqual(['x', 'y', 'z'])
  })

  it('without preserveOrder, puts several aggregates of a shard in one request and lets requests overlap', () => {
    const { collector, add } = setUp({ preserveOrder: false })
    add('a', users(1500, 100))
    const first = collector.take(1_000).batch!
    expect(first.records.length).toBeGreaterThan(2)
    expect(first.records.every((r) => r.bytes <= 51_200)).toBe(true)
    expect(first.records.map((r) => r.users.length).reduce((x, y) => x + y)).toBe(1500)
    add('a', users(600, 100))
    // Shard a is not held while the first request is in flight.
    expect(collector.take(1_000).batch!.records.length).toBeGreaterThan(0)
  })

  it('sends a record too big for an aggregate alone, in either mode', () => {
    for (const preserveOrder of [true, false]) {
      const { collector, add } = setUp({ preserveOrder, aggregationMaxSize: 4096 })
      // Bigger than aggregationMaxSize, and with preserveOrder bigger than the 1 MiB aggregates too.
      const size = preserveOrder ? 2 * 1024 * 1024 : 60_000
      add('a', [testUser('big', size), ...users(3, 10)])
      const batch = collector.take(1_000).batch!
      expect(batch.records[0]!.users.map((u) => u.partitionKey)).toEqual(['big'])
      expect(batch.records[0]!.bytes).toBe(size + 3)
    }
  })

  it('takes at most 500 records and 5 MiB per request', () => {
    const { collector, add } = setUp({ preserveOrder: false, aggregationEnabled: false })
    add('a', users(700, 10))
    expect(collector.take(1_000).batch!.records).toHaveLength(500)
    const mib = 1024 * 1024
    const big = setUp({ preserveOrder: false, aggregationEnabled: false })
    big.add('a', users(6, mib - 2))
    const batch = big.collector.take(1_000).batch!
    expect(batch.records).toHaveLength(5)
    expect(batch.bytes).toBe(5 * mib - 10 + 5 * 2)
  })

  it('lets a shard wait for its buffering time unless it holds a full aggregate, and says when to wake', () => {
    const { collector, add } = setUp()
    add('a', users(10, 100, undefined, 50))
    expect(collector.take(100)).toEqual({ batch: undefined, wakeAt: 150 })
    expect(collector.take(149).batch!.records[0]!.users).toHaveLength(10)
    const full = setUp()
    full.add('a', users(600, 100, undefined, 50))
    expect(full.collector.take(60).batch!.records[0]!.users.length).toBeGreaterThan(400)
  })

  it('holds a shard in backoff until it ends, and sends its retried head first once it does', () => {
    const { collector, add } = setUp()
    const lane = add('a', users(5, 100))
    lane.notBefore = 500
    expect(collector.take(200)).toEqual({ batch: undefined, wakeAt: 500 })
    expect(collector.take(500).batch!.records[0]!.users).toHaveLength(5)
  })

  it('sends what the rate limiter allows and says when more may go', () => {
    // 1% of the shard limit: 10 records/s and 10,485 bytes/s.
    const { collector, add, lanes } = setUp({ preserveOrder: false, aggregationEnabled: false }, 1)
    add('a', users(20, 90))
    const batch = collector.take(100).batch!
    expect(batch.records).toHaveLength(10)
    const lane = [...lanes.ready][0]!
    lane.inFlight--
    const held = collector.take(100)
    expect(held.batch).toBeUndefined()
    // One record's worth of tokens comes back in 100 ms.
    expect(held.wakeAt).toBe(200)
    expect(collector.take(1_100).batch!.records).toHaveLength(10)
  })

  it('with preserveOrder, the one Kinesis record of a shard carries what waited, up to 1 MiB', () => {
    const { collector, add } = setUp()
    const lane = add(
      'a',
      users(30_000, 100, (i) => `k${i % 100}`),
    )
    const record = collector.take(1_000).batch!.records[0]!
    expect(record.bytes).toBeLessThanOrEqual(1024 * 1024)
    expect(record.bytes).toBeGreaterThan(1024 * 1024 - 110)
    expect(lane.queue.size).toBe(30_000 - record.users.length)
  })

  it('an aggregate grows to the bytes the rate limiter allows now; short of tokens, a lane waits for a quarter second of them', () => {
    // 5%: 52,428 bytes/s and a bucket of one second.
    const { collector, add } = setUp({}, 5)
    const lane = add('a', users(2000, 100))
    const first = collector.take(0).batch!.records[0]!
    expect(first.bytes).toBeLessThanOrEqual(52_428)
    expect(first.bytes).toBeGreaterThan(52_428 - 110)
    lane.inFlight--
    const held = collector.take(0)
    expect(held.batch).toBeUndefined()
    // A quarter second's bytes (13,107) are back a little before 250 ms: woken on the grid of
    // recordMaxBufferedTime (100 ms), at 300 ms, with 300 ms of tokens (15,728 bytes).
    expect(held.wakeAt).toBe(300)
    // Not a sliver sooner, also when something else drains meanwhile (a response).
    expect(collector.take(250).batch).toBeUndefined()
    const second = collector.take(300).batch!.records[0]!
    expect(second.bytes).toBeLessThanOrEqual(15_728 + (52_428 - first.bytes))
    expect(second.bytes).toBeGreaterThan(15_728 - 110)
  })

  it('without preserveOrder, waits for a whole aggregate of rate tokens instead of sending a sliver', () => {
    // 5%: 52,428 bytes/s and a bucket of one second: one full 51,200-byte aggregate, then 1,228 bytes left.
    const { collector, add } = setUp({ preserveOrder: false }, 5)
    const lane = add('a', users(2000, 100))
    const first = collector.take(0)
    expect(first.batch!.records).toHaveLength(1)
    expect(first.batch!.records[0]!.bytes).toBeGreaterThan(51_200 - 110)
    lane.inFlight--
    const held = collector.take(0)
    expect(held.batch).toBeUndefined()
    // The tokens of a whole aggregate are back in a little under a second, not at once; the wake-up
    // is on the grid of recordMaxBufferedTime that lets lanes ready at about the same time share a request.
    expect(held.wakeAt).toBeGreaterThan(900)
    expect(held.wakeAt).toBeLessThanOrEqual(1_000)
    expect(held.wakeAt % 100).toBe(0)
    const second = collector.take(held.wakeAt).batch!
    expect(second.records).toHaveLength(1)
    expect(second.records[0]!.bytes).toBeGreaterThan(51_200 - 110)
  })

  it('without preserveOrder, a lane at its rate limit sends what its tokens allow as one aggregate of up to 1 MiB; one with tokens to spare, aggregates of aggregationMaxSize', () => {
    // 150%: 1.5 MiB of tokens in a full bucket.
    const limited = setUp({ preserveOrder: false }, 150)
    limited.add(
      'a',
      users(30_000, 100, (i) => `k${i % 2000}`),
    )
    const [first, second] = limited.collector.take(0).batch!.records
    expect(first!.bytes).toBeLessThanOrEqual(1024 * 1024)
    expect(first!.bytes).toBeGreaterThan(1024 * 1024 - 110)
    // The other half MiB of tokens, in one more aggregate.
    expect(second!.bytes).toBeGreaterThan(512 * 1024 - 110)

    const spare = setUp({ preserveOrder: false }, 150)
    spare.add(
      'a',
      users(5_000, 100, (i) => `k${i % 2000}`),
    )
    const batch = spare.collector.take(0).batch!
    expect(batch.records.length).toBeGreaterThan(5)
    expect(batch.records.every((r) => r.bytes <= 51_200)).toBe(true)
  })

  it('fails records at a shard head whose recordTtl has passed, in order, and sends the rest', () => {
    const { collector, add, expired } = setUp({ recordTtl: 1_000 })
    const old = users(3, 10, (i) => `old${i}`, 0)
    const fresh = users(2, 10, (i) => `fresh${i}`, 900)
    add('a', [...old, ...fresh])
    const batch = collector.take(1_000).batch!
    expect(expired).toEqual(old)
    expect(batch.records[0]!.users).toEqual(fresh)
  })
})

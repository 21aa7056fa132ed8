import { decodeAggregated, formatHashKey, hashKeyOf } from '@kinesis-ts/shared'
import { describe, expect, it } from 'vitest'
import { AGGREGATE_PARTITION_KEY, EntryBuilder } from './aggregator.js'
import { Lanes, type ShardLane } from './lanes.js'
import { testTarget, testUser } from './test-helpers.js'

function laneOf(users: ReturnType<typeof testUser>[], shardId: string | null = 'shard-0'): ShardLane {
  const lanes = new Lanes(100)
  const lane = lanes.laneFor(testTarget, shardId ?? undefined, 0)
  for (const user of users) lanes.push(lane, user)
  return lane
}

const many = (count: number, size: number, key = (i: number) => `key-${i % 7}`) =>
  Array.from({ length: count }, (_, i) => testUser(key(i), size, { tag: `#${i}` }))

describe('EntryBuilder', () => {
  it('fills an aggregate to exactly its byte budget and no further, leaving the rest in the lane in order', () => {
    const max = 51_200
    const users = many(1000, 97)
    const lane = laneOf(users)
    const record = new EntryBuilder(4_294_967_295).take(lane, max, true)!
    expect(record.bytes).toBe(record.data.length + 1)
    expect(record.bytes).toBeLessThanOrEqual(max)
    // One more record would not have fitted: the aggregate is full to the byte budget.
    expect(record.bytes + 97 + 3).toBeGreaterThan(max)
    const decoded = decodeAggregated(record.data)
    expect(decoded.map((u) => Buffer.from(u.data))).toEqual(
      users.slice(0, decoded.length).map((u) => Buffer.from(u.data)),
    )
    expect(record.users).toEqual(users.slice(0, decoded.length))
    expect(lane.queue.size).toBe(1000 - decoded.length)
    expect(lane.queue.peek()).toBe(users[decoded.length])
  })

  it('fills to exactly 1 MiB when that is the budget', () => {
    const max = 1024 * 1024
    const lane = laneOf(many(1100, 1000, () => 'k'))
    const record = new EntryBuilder(4_294_967_295).take(lane, max, true)!
    expect(record.bytes).toBeLessThanOrEqual(max)
    expect(record.bytes).toBeGreaterThan(max - 1010)
    expect(decodeAggregated(record.data)).toHaveLength(record.users.length)
  })

  it('stops at aggregationMaxCount records', () => {
    const lane = laneOf(many(600, 10))
    expect(new EntryBuilder(500).take(lane, 1024 * 1024, true)!.users).toHaveLength(500)
    expect(lane.queue.size).toBe(100)
  })

  it('writes outer key "a" and the first record hash key as explicit hash key; sub-records keep keys, multi-byte ones too', () => {
    const keys = ['ключ-1', '鍵-2', 'key-3', 'ключ-1']
    const lane = laneOf([...keys.map((key) => testUser(key, 5)), testUser('explicit', 5, { explicitHashKey: '42' })])
    const record = new EntryBuilder(100).take(lane, 51_200, true)!
    expect(record.partitionKey).toBe(AGGREGATE_PARTITION_KEY)
    expect(record.explicitHashKey).toBe(formatHashKey(hashKeyOf('ключ-1')))
    expect(record.predictedShardId).toBe('shard-0')
    const decoded = decodeAggregated(record.data)
    expect(decoded.map((r) => r.partitionKey)).toEqual([...keys, 'explicit'])
    expect(decoded.map((r) => r.subSequenceNumber)).toEqual([0, 1, 2, 3, 4])
    expect(decoded[4]?.explicitHashKey).toBe('42')
  })

  it('reuses the key table: a repeated key costs less than a new one', () => {
    const builder = new EntryBuilder(1000)
    const repeated = builder.take(laneOf(many(50, 20, () => 'same-key-for-all')), 51_200, true)!
    const distinct = builder.take(laneOf(many(50, 20, (i) => `distinct-key-${i}`)), 51_200, true)!
    expect(repeated.users).toHaveLength(50)
    expect(distinct.users).toHaveLength(50)
    expect(repeated.data.length).toBeLessThan(distinct.data.length)
  })

  it('sends an aggregate of one as the plain user record, with its own key and explicit hash key', () => {
    const alone = testUser('solo', 30, { explicitHashKey: '12345' })
    const lane = laneOf([alone])
    const record = new EntryBuilder(100).take(lane, 51_200, true)!
    expect(record.data).toBe(alone.data)
    expect(record).toMatchObject({ partitionKey: 'solo', explicitHashKey: '12345', bytes: 34, users: [alone] })
    expect(new EntryBuilder(100).take(lane, 51_200, true)).toBeUndefined()
  })

  it('sends the head alone when only it fits, or without aggregation, or without a predicted shard; nothing when it does not fit', () => {
    const builder = new EntryBuilder(100)
    const big = laneOf([testUser('big', 60_000), testUser('next', 10)])
    expect(builder.take(big, 51_200, true)).toBeUndefined()
    expect(builder.take(big, 60_003, true)!.users.map((u) => u.partitionKey)).toEqual(['big'])
    const raw = laneOf(many(3, 10))
    expect(builder.take(raw, 51_200, false)!.users).toHaveLength(1)
    const unpredicted = laneOf(many(3, 10), null)
    const record = builder.take(unpredicted, 51_200, true)!
    expect(record.users).toHaveLength(1)
    expect(record.predictedShardId).toBeUndefined()
  })

  it('sends a record with headers inside an aggregate even alone (predicted shard or not), its headers as tags', () => {
    for (const shardId of ['shard-0', null]) {
      const user = testUser('solo', 30, { headers: { traceparent: 'tp', a: 'b' } })
      const lane = laneOf([user, testUser('too-big-to-join', 60_000)], shardId)
      const record = new EntryBuilder(100).take(lane, 51_200, true, 51_200)!
      expect(record).toMatchObject({ partitionKey: AGGREGATE_PARTITION_KEY, users: [user] })
      expect(record.explicitHashKey).toBe(formatHashKey(hashKeyOf('solo')))
      expect(record.bytes).toBe(record.data.length + 1)
      const [decoded, ...rest] = decodeAggregated(record.data)
      expect(rest).toHaveLength(0)
      expect(decoded).toMatchObject({ partitionKey: 'solo', aggregated: true })
      expect({ ...decoded!.headers }).toEqual({ traceparent: 'tp', a: 'b' })
    }
  })

  it('carries the headers of the records that have them in a shared aggregate', () => {
    const lane = laneOf([testUser('k1', 5), testUser('k2', 5, { headers: { h: '1' } }), testUser('k3', 5)])
    const record = new EntryBuilder(100).take(lane, 51_200, true)!
    expect(decodeAggregated(record.data).map((r) => ({ ...r.headers }))).toEqual([{}, { h: '1' }, {}])
  })

  it('leaves a record with headers in the lane when its aggregate of one does not fit', () => {
    const user = testUser('k', 100, { headers: { h: 'v'.repeat(50) } })
    const lane = laneOf([user])
    expect(new EntryBuilder(100).take(lane, user.bytes + 1, true)).toBeUndefined()
    expect(lane.queue.peek()).toBe(user)
  })
})

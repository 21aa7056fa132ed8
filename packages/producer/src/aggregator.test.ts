import { decodeAggregated, formatHashKey, hashKeyOf } from '@kinesis-ts/shared'
import { describe, expect, it } from 'vitest'
import { AGGREGATE_PARTITION_KEY, ShardAggregator } from './aggregator.js'
import type { PendingUserRecord } from './pending.js'
import type { StreamTarget } from './stream-target.js'

const target = { key: 'name:s', label: 's' } as StreamTarget

function user(partitionKey: string, size: number, explicitHashKey?: string): PendingUserRecord {
  const data = new Uint8Array(size).fill(7)
  return {
    source: { partitionKey, data },
    partitionKey,
    explicitHashKey,
    hashKey: explicitHashKey === undefined ? hashKeyOf(partitionKey) : BigInt(explicitHashKey),
    data,
    bytes: size + Buffer.byteLength(partitionKey),
    target,
    arrivedAt: 0,
    generation: 0,
    attempts: undefined,
    settled: false,
    resolve: () => {},
    reject: () => {},
  }
}

describe('ShardAggregator', () => {
  it('fills an aggregate to exactly aggregationMaxSize bytes and no further', () => {
    const max = 51_200
    const aggregator = new ShardAggregator(target, 'shard-0', 1)
    let added = 0
    while (aggregator.tryAdd(user(`key-${added % 7}`, 97), max, Number.MAX_SAFE_INTEGER)) added++
    const record = aggregator.seal(0)!
    expect(record.data.length).toBeLessThanOrEqual(max)
    // One more record would not have fitted: the aggregate is full to the byte budget.
    expect(record.data.length + 97 + 8).toBeGreaterThan(max)
    expect(decodeAggregated(record.data)).toHaveLength(added)
    expect(record.users).toHaveLength(added)
  })

  it('fills to exactly 1 MiB when that is the limit', () => {
    const max = 1024 * 1024
    const aggregator = new ShardAggregator(target, 'shard-0', 1)
    let added = 0
    // Record sizes chosen so the last one lands exactly on the limit or the next one overflows.
    while (aggregator.tryAdd(user('k', 1000 + (added % 3)), max, Number.MAX_SAFE_INTEGER)) added++
    const record = aggregator.seal(0)!
    expect(record.data.length).toBeLessThanOrEqual(max)
    expect(record.data.length).toBeGreaterThan(max - 1010)
    expect(decodeAggregated(record.data)).toHaveLength(added)
  })

  it('stops at aggregationMaxCount records', () => {
    const aggregator = new ShardAggregator(target, 'shard-0', 1)
    for (let i = 0; i < 500; i++) expect(aggregator.tryAdd(user(`k${i}`, 10), 1024 * 1024, 500)).toBe(true)
    expect(aggregator.tryAdd(user('one-more', 10), 1024 * 1024, 500)).toBe(false)
    expect(aggregator.seal(0)!.users).toHaveLength(500)
  })

  it('writes outer key "a" and the first record hash key as explicit hash key; sub-records keep keys, multi-byte ones too', () => {
    const aggregator = new ShardAggregator(target, 'shard-0', 1)
    const keys = ['ключ-1', '鍵-2', 'key-3', 'ключ-1']
    for (const key of keys) aggregator.tryAdd(user(key, 5), 51_200, 100)
    aggregator.tryAdd(user('explicit', 5, '42'), 51_200, 100)
    const record = aggregator.seal(0)!
    expect(record.partitionKey).toBe(AGGREGATE_PARTITION_KEY)
    expect(record.explicitHashKey).toBe(formatHashKey(hashKeyOf('ключ-1')))
    expect(record.bytes).toBe(record.data.length + 1)
    const decoded = decodeAggregated(record.data)
    expect(decoded.map((r) => r.partitionKey)).toEqual([...keys, 'explicit'])
    expect(decoded.map((r) => r.subSequenceNumber)).toEqual([0, 1, 2, 3, 4])
    expect(decoded[4]?.explicitHashKey).toBe('42')
  })

  it('reuses the key table: a repeated key costs less than a new one', () => {
    const repeated = new ShardAggregator(target, 'shard-0', 1)
    const distinct = new ShardAggregator(target, 'shard-0', 1)
    for (let i = 0; i < 50; i++) {
      repeated.tryAdd(user('same-key-for-all', 20), 51_200, 1000)
      distinct.tryAdd(user(`distinct-key-${i}`, 20), 51_200, 1000)
    }
    expect(repeated.seal(0)!.data.length).toBeLessThan(distinct.seal(0)!.data.length)
  })

  it('sends an aggregate of one as the plain user record, with its own key and explicit hash key', () => {
    const aggregator = new ShardAggregator(target, 'shard-0', 1)
    const alone = user('solo', 30, '12345')
    aggregator.tryAdd(alone, 51_200, 100)
    const record = aggregator.seal(0)!
    expect(record.data).toBe(alone.data)
    expect(record.partitionKey).toBe('solo')
    expect(record.explicitHashKey).toBe('12345')
    expect(record.bytes).toBe(30 + 4)
    expect(aggregator.seal(0)).toBeUndefined()
  })
})

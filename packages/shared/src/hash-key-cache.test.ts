import { describe, expect, it } from 'vitest'
import { AggregateBuilder, encodeAggregated } from './codec/aggregate-builder.js'
import { HashKeyCache, PartitionKeyEntry } from './hash-key-cache.js'
import { hashKeyOf, hashKeyParts } from './hash-key.js'
import { MAX_HASH_KEY } from './limits.js'
import { ShardMap } from './shard-map.js'

function twoShards(): ShardMap {
  const half = (MAX_HASH_KEY + 1n) / 2n
  return new ShardMap([
    { ShardId: 'low', HashKeyRange: { StartingHashKey: '0', EndingHashKey: (half - 1n).toString() } },
    { ShardId: 'high', HashKeyRange: { StartingHashKey: half.toString(), EndingHashKey: MAX_HASH_KEY.toString() } },
  ])
}

describe('PartitionKeyEntry', () => {
  it('holds the hash key in parts, as a BigInt on demand, and the UTF-8 length', () => {
    const entry = new PartitionKeyEntry('clé-🔑')
    expect(entry.key).toBe('clé-🔑')
    expect(entry.byteLength).toBe(Buffer.byteLength('clé-🔑'))
    expect(entry.hashKey).toBe(hashKeyOf('clé-🔑'))
    expect({ high: entry.high, middle: entry.middle, low: entry.low }).toEqual(hashKeyParts(hashKeyOf('clé-🔑')))
  })

  it('answers the shard of each map it is asked about, as the BigInt search does', () => {
    const first = twoShards()
    const second = new ShardMap([
      { ShardId: 'only', HashKeyRange: { StartingHashKey: '0', EndingHashKey: MAX_HASH_KEY.toString() } },
    ])
    for (let i = 0; i < 200; i++) {
      const entry = new PartitionKeyEntry(`key-${i}`)
      expect(entry.shardIn(first)).toBe(first.shardFor(hashKeyOf(`key-${i}`)))
      expect(entry.shardIn(second)).toBe('only')
      expect(entry.shardIn(first)).toBe(first.shardFor(hashKeyOf(`key-${i}`)))
    }
  })

  it('serves as the aggregate key-table slot of its key', () => {
    const entry = new PartitionKeyEntry('clé')
    const builder = new AggregateBuilder()
    builder.add({ partitionKey: 'clé', partitionKeySlot: entry, data: new Uint8Array([1]) })
    builder.add({ partitionKey: 'clé', partitionKeySlot: entry, data: new Uint8Array([2]) })
    expect(builder.build()).toEqual(
      encodeAggregated([
        { partitionKey: 'clé', data: new Uint8Array([1]) },
        { partitionKey: 'clé', data: new Uint8Array([2]) },
      ]),
    )
  })
})

describe('HashKeyCache', () => {
  it('returns the same hash keys as hashKeyOf and stays within two generations', () => {
    const cache = new HashKeyCache(3)
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 10; i++) expect(cache.get(`k${i}`)).toBe(hashKeyOf(`k${i}`))
    }
    expect(cache.size).toBeLessThanOrEqual(6)
  })

  it('remembers a key from its second sighting: one entry per key from then on', () => {
    const cache = new HashKeyCache(100)
    const first = cache.entry('k')
    expect(cache.size).toBe(0)
    const second = cache.entry('k')
    expect(second).not.toBe(first)
    expect(cache.size).toBe(1)
    expect(cache.entry('k')).toBe(second)
    expect(cache.entry('k')).toBe(second)
  })

  it('keeps hot keys through a flood of unique keys, and remembers few of those', () => {
    const cache = new HashKeyCache(100)
    const hot = Array.from({ length: 50 }, (_, i) => `hot-${i}`)
    for (const key of hot) cache.entry(key)
    const entries = hot.map((key) => cache.entry(key))
    // Between two uses of a hot key, 5x the cache's capacity of unique keys: a cache admitting every
    // key would have rotated both generations out and hashed the hot keys again.
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 500; i++) cache.entry(`unique-${round}-${i}`)
      hot.forEach((key, i) => expect(cache.entry(key)).toBe(entries[i]))
    }
    // The filter lets about one unique key in 200 through as a false second sighting (25 of these
    // 5000); a cache that admitted every key would have hashed the hot keys again, and hold 100 or more.
    expect(cache.size).toBeGreaterThanOrEqual(50)
    expect(cache.size).toBeLessThan(90)
  })

  it('still turns over when the hot set outgrows it', () => {
    const cache = new HashKeyCache(10)
    for (let round = 0; round < 3; round++) for (let i = 0; i < 100; i++) cache.entry(`k${i}`)
    expect(cache.size).toBeLessThanOrEqual(20)
    expect(cache.size).toBeGreaterThanOrEqual(10)
  })
})

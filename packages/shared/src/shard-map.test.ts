import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { hashKeyParts } from './hash-key.js'
import { MAX_HASH_KEY } from './limits.js'
import { type ShardDescription, ShardMap } from './shard-map.js'

/** Shards splitting 0..2^128-1 evenly, as CreateStream does. */
function evenShards(count: number): ShardDescription[] {
  const width = (MAX_HASH_KEY + 1n) / BigInt(count)
  return Array.from({ length: count }, (_, i) => ({
    ShardId: `shardId-${String(i).padStart(12, '0')}`,
    HashKeyRange: {
      StartingHashKey: (width * BigInt(i)).toString(),
      EndingHashKey: (i === count - 1 ? MAX_HASH_KEY : width * BigInt(i + 1) - 1n).toString(),
    },
  }))
}

describe('ShardMap', () => {
  it('routes the boundaries 0 and 2^128-1 and every range edge', () => {
    const shards = evenShards(4)
    const map = new ShardMap([...shards].reverse())
    expect(map.shardFor(0n)).toBe('shardId-000000000000')
    expect(map.shardFor(MAX_HASH_KEY)).toBe('shardId-000000000003')
    for (const shard of shards) {
      expect(map.shardFor(BigInt(shard.HashKeyRange!.StartingHashKey!))).toBe(shard.ShardId)
      expect(map.shardFor(BigInt(shard.HashKeyRange!.EndingHashKey!))).toBe(shard.ShardId)
    }
    expect(map.gaps()).toEqual([])
  })

  it('ignores closed shards', () => {
    const [a, b] = evenShards(2) as [ShardDescription, ShardDescription]
    const closedParent: ShardDescription = {
      ShardId: 'shardId-parent',
      HashKeyRange: { StartingHashKey: '0', EndingHashKey: MAX_HASH_KEY.toString() },
      SequenceNumberRange: { EndingSequenceNumber: '49' },
    }
    const map = new ShardMap([closedParent, a, b])
    expect(map.size).toBe(2)
    expect(map.shardFor(0n)).toBe(a.ShardId)
  })

  it('reports holes and answers undefined inside them', () => {
    const map = new ShardMap([
      { ShardId: 's1', HashKeyRange: { StartingHashKey: '10', EndingHashKey: '19' } },
      { ShardId: 's2', HashKeyRange: { StartingHashKey: '30', EndingHashKey: MAX_HASH_KEY.toString() } },
    ])
    expect(map.shardFor(5n)).toBeUndefined()
    expect(map.shardFor(25n)).toBeUndefined()
    expect(map.shardFor(19n)).toBe('s1')
    expect(map.gaps()).toEqual([
      { from: 0n, to: 9n },
      { from: 20n, to: 29n },
    ])
  })

  it('agrees with a linear scan for any key', () => {
    const shards = evenShards(7)
    const map = new ShardMap(shards)
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX_HASH_KEY }), (key) => {
        const expected = shards.find(
          (s) => BigInt(s.HashKeyRange!.StartingHashKey!) <= key && key <= BigInt(s.HashKeyRange!.EndingHashKey!),
        )
        expect(map.shardFor(key)).toBe(expected?.ShardId)
      }),
    )
  })

  describe('shardForParts', () => {
    /** Ranges whose edges share their 48-bit prefix, so only the lower parts tell them apart. */
    const prefix = 0xabcdn << 80n
    const tied = new ShardMap([
      { ShardId: 'below', HashKeyRange: { StartingHashKey: '0', EndingHashKey: (prefix + 99n).toString() } },
      {
        ShardId: 'mid',
        HashKeyRange: { StartingHashKey: (prefix + 100n).toString(), EndingHashKey: (prefix + (1n << 40n)).toString() },
      },
      {
        ShardId: 'above',
        HashKeyRange: {
          StartingHashKey: (prefix + (1n << 40n) + 1n).toString(),
          EndingHashKey: MAX_HASH_KEY.toString(),
        },
      },
    ])

    it('tells apart edges that tie on the prefix by the middle and low parts', () => {
      for (const [key, shard] of [
        [prefix + 99n, 'below'],
        [prefix + 100n, 'mid'],
        [prefix + (1n << 40n), 'mid'],
        [prefix + (1n << 40n) + 1n, 'above'],
        [0n, 'below'],
        [MAX_HASH_KEY, 'above'],
      ] as const) {
        expect(tied.shardForParts(hashKeyParts(key))).toBe(shard)
      }
    })

    it('agrees with the BigInt search for any key, gaps included', () => {
      const maps = [
        new ShardMap(evenShards(7)),
        tied,
        new ShardMap([
          { ShardId: 's1', HashKeyRange: { StartingHashKey: '10', EndingHashKey: '19' } },
          {
            ShardId: 's2',
            HashKeyRange: { StartingHashKey: (prefix + 5n).toString(), EndingHashKey: (prefix + 7n).toString() },
          },
        ]),
      ]
      const nearEdge = fc.constantFrom(
        ...maps.flatMap((m) => m.shards.flatMap((s) => [s.startingHashKey, s.endingHashKey])),
      )
      const key = fc.oneof(
        fc.bigInt({ min: 0n, max: MAX_HASH_KEY }),
        fc
          .tuple(nearEdge, fc.bigInt({ min: -2n, max: 2n }))
          .map(([edge, delta]) => edge + delta)
          .filter((k) => k >= 0n && k <= MAX_HASH_KEY),
      )
      fc.assert(
        fc.property(key, (k) => {
          for (const map of maps) expect(map.shardForParts(hashKeyParts(k))).toBe(map.shardFor(k))
        }),
        { numRuns: 2_000 },
      )
    })
  })
})

import { MAX_HASH_KEY } from '@kinesis-ts/shared'
import { describe, expect, it } from 'vitest'
import { newLease } from '../leases/lease.js'
import { hashRangeHoles } from './hash-range-audit.js'

const lease = (key: string, start: bigint, end: bigint, checkpoint = 'TRIM_HORIZON') =>
  newLease(key, { sequenceNumber: checkpoint, subSequenceNumber: 0 }, [], {
    startingHashKey: start.toString(),
    endingHashKey: end.toString(),
  })

const half = MAX_HASH_KEY / 2n

describe('hashRangeHoles', () => {
  it('finds nothing when unfinished leases cover the whole range', () => {
    expect(hashRangeHoles([lease('a', 0n, half), lease('b', half + 1n, MAX_HASH_KEY)])).toEqual([])
  })

  it('ignores finished leases: a parent at SHARD_END without child leases leaves a hole', () => {
    const holes = hashRangeHoles([lease('a', 0n, half), lease('b', half + 1n, MAX_HASH_KEY, 'SHARD_END')])
    expect(holes).toEqual([{ from: half + 1n, to: MAX_HASH_KEY }])
  })

  it('finds holes in the middle and accepts overlaps (a child next to its unfinished parent)', () => {
    const holes = hashRangeHoles([lease('a', 0n, 10n), lease('a1', 5n, 10n), lease('b', 20n, MAX_HASH_KEY)])
    expect(holes).toEqual([{ from: 11n, to: 19n }])
  })

  it('is inconclusive (no holes) when a lease has no stored range', () => {
    const old = { ...lease('a', 0n, 10n), hashKeyRange: undefined }
    expect(hashRangeHoles([old])).toEqual([])
  })
})

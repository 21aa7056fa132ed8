import { MAX_HASH_KEY } from '@kinesis-ts/shared'
import type { Lease } from '../leases/lease.js'
import { isShardEnd } from '../records/sequence.js'

export interface HashRangeHole {
  readonly from: bigint
  readonly to: bigint
}

/**
 * Hash-key intervals that no unfinished lease covers. On a healthy table the leases of shards not yet
 * at SHARD_END cover 0..2^128-1; a hole means a shard has no lease (a lost child-lease creation, a
 * deleted row) and its records would never be read. Leases without a stored range make the audit
 * inconclusive: it then reports nothing.
 */
export function hashRangeHoles(leases: readonly Lease[]): HashRangeHole[] {
  const ranges: { start: bigint; end: bigint }[] = []
  for (const lease of leases) {
    if (isShardEnd(lease.checkpoint)) continue
    if (lease.hashKeyRange === undefined) return []
    ranges.push({ start: BigInt(lease.hashKeyRange.startingHashKey), end: BigInt(lease.hashKeyRange.endingHashKey) })
  }
  if (ranges.length === 0) return []
  ranges.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0))
  const holes: HashRangeHole[] = []
  let next = 0n
  for (const range of ranges) {
    if (range.start > next) holes.push({ from: next, to: range.start - 1n })
    if (range.end + 1n > next) next = range.end + 1n
  }
  if (next <= MAX_HASH_KEY) holes.push({ from: next, to: MAX_HASH_KEY })
  return holes
}

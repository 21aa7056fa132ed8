import { type HashKeyParts, hashKeyParts } from './hash-key.js'
import { MAX_HASH_KEY } from './limits.js'

/** The parts of a ListShards `Shard` the map needs (the SDK's type fits). */
export interface ShardDescription {
  readonly ShardId?: string | undefined
  readonly ParentShardId?: string | undefined
  readonly AdjacentParentShardId?: string | undefined
  readonly HashKeyRange?: { readonly StartingHashKey?: string | undefined; readonly EndingHashKey?: string | undefined }
  readonly SequenceNumberRange?: { readonly EndingSequenceNumber?: string | undefined }
}

export interface ShardRange {
  readonly shardId: string
  readonly startingHashKey: bigint
  readonly endingHashKey: bigint
}

/** A hash-key interval that no open shard covers. */
export interface HashKeyGap {
  readonly from: bigint
  readonly to: bigint
}

/** Range edges of the open shards in HashKeyParts form, one typed array per part. */
class PartsColumn {
  readonly high: Float64Array
  readonly middle: Float64Array
  readonly low: Float64Array

  constructor(keys: readonly bigint[]) {
    this.high = new Float64Array(keys.length)
    this.middle = new Float64Array(keys.length)
    this.low = new Float64Array(keys.length)
    keys.forEach((key, i) => {
      const parts = hashKeyParts(key)
      this.high[i] = parts.high
      this.middle[i] = parts.middle
      this.low[i] = parts.low
    })
  }

  /** Whether the edge at `i` is at or below `key`: the prefix decides unless it ties. */
  atOrBelow(i: number, key: HashKeyParts): boolean {
    const high = this.high[i]!
    if (high !== key.high) return high < key.high
    const middle = this.middle[i]!
    if (middle !== key.middle) return middle < key.middle
    return this.low[i]! <= key.low
  }

  /** Whether the edge at `i` is below `key`. */
  below(i: number, key: HashKeyParts): boolean {
    const high = this.high[i]!
    if (high !== key.high) return high < key.high
    const middle = this.middle[i]!
    if (middle !== key.middle) return middle < key.middle
    return this.low[i]! < key.low
  }
}

/**
 * Open shards' hash ranges, sorted, answering "which shard owns this hash key" in O(log n), for a
 * BigInt hash key or (without BigInt, on the producer's hot path) one in HashKeyParts.
 * Closed shards (with an ending sequence number) take no new records, so they are ignored.
 */
export class ShardMap {
  readonly #starts: bigint[]
  readonly #ends: bigint[]
  readonly #startParts: PartsColumn
  readonly #endParts: PartsColumn
  readonly #ids: string[]
  readonly #byId: Map<string, ShardRange>

  constructor(shards: Iterable<ShardDescription>) {
    const ranges: ShardRange[] = []
    for (const shard of shards) {
      if (shard.SequenceNumberRange?.EndingSequenceNumber !== undefined) continue
      const start = shard.HashKeyRange?.StartingHashKey
      const end = shard.HashKeyRange?.EndingHashKey
      if (shard.ShardId === undefined || start === undefined || end === undefined) continue
      ranges.push({ shardId: shard.ShardId, startingHashKey: BigInt(start), endingHashKey: BigInt(end) })
    }
    ranges.sort((a, b) => (a.startingHashKey < b.startingHashKey ? -1 : a.startingHashKey > b.startingHashKey ? 1 : 0))
    this.#starts = ranges.map((r) => r.startingHashKey)
    this.#ends = ranges.map((r) => r.endingHashKey)
    this.#startParts = new PartsColumn(this.#starts)
    this.#endParts = new PartsColumn(this.#ends)
    this.#ids = ranges.map((r) => r.shardId)
    this.#byId = new Map(ranges.map((r) => [r.shardId, r]))
  }

  /** Open shards in hash-key order. */
  get shards(): readonly ShardRange[] {
    return this.#ids.map((id) => this.#byId.get(id)!)
  }

  get size(): number {
    return this.#ids.length
  }

  /** The open shard whose range holds `hashKey`, or undefined when none does (a gap). */
  shardFor(hashKey: bigint): string | undefined {
    let low = 0
    let high = this.#starts.length - 1
    while (low <= high) {
      const mid = (low + high) >>> 1
      if (this.#starts[mid]! <= hashKey) low = mid + 1
      else high = mid - 1
    }
    // `high` is now the last range starting at or below the key.
    if (high < 0 || this.#ends[high]! < hashKey) return undefined
    return this.#ids[high]
  }

  /** shardFor for a hash key in parts: the same answer, with number comparisons only. */
  shardForParts(hashKey: HashKeyParts): string | undefined {
    const starts = this.#startParts
    let low = 0
    let high = this.#ids.length - 1
    while (low <= high) {
      const mid = (low + high) >>> 1
      if (starts.atOrBelow(mid, hashKey)) low = mid + 1
      else high = mid - 1
    }
    if (high < 0 || this.#endParts.below(high, hashKey)) return undefined
    return this.#ids[high]
  }

  rangeOf(shardId: string): ShardRange | undefined {
    return this.#byId.get(shardId)
  }

  /** Hash-key intervals in 0..2^128-1 that no open shard covers (empty for a healthy stream). */
  gaps(): HashKeyGap[] {
    const gaps: HashKeyGap[] = []
    let next = 0n
    for (let i = 0; i < this.#starts.length; i++) {
      const start = this.#starts[i]!
      if (start > next) gaps.push({ from: next, to: start - 1n })
      const end = this.#ends[i]!
      if (end + 1n > next) next = end + 1n
    }
    if (next <= MAX_HASH_KEY) gaps.push({ from: next, to: MAX_HASH_KEY })
    return gaps
  }
}

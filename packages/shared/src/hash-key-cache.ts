import type { KeySlot } from './codec/key-table.js'
import { type HashKeyParts, hashKeyFromParts, partitionKeyHashOf } from './hash-key.js'
import type { ShardMap } from './shard-map.js'

/**
 * Everything the producer derives from one partition key, computed once: its hash key as
 * HashKeyParts (no BigInt), the shard it falls in on the last map asked about, and its slot in the
 * aggregate key table (an entry is a KeySlot: pass it as `partitionKeySlot` to AggregateBuilder).
 */
export class PartitionKeyEntry implements HashKeyParts, KeySlot {
  /** The partition key. */
  readonly key: string
  /** Its UTF-8 length. */
  readonly byteLength: number
  readonly high: number
  readonly middle: number
  readonly low: number
  /** KeySlot: the aggregate this key was last added to, and its index in that aggregate's key table. */
  generation = 0
  index = 0
  #hashKey: bigint | undefined
  #map: ShardMap | undefined
  #shardId: string | undefined

  constructor(partitionKey: string) {
    const hash = partitionKeyHashOf(partitionKey)
    this.key = partitionKey
    this.byteLength = hash.byteLength
    this.high = hash.high
    this.middle = hash.middle
    this.low = hash.low
  }

  /** The hash key as a BigInt, made on first use (for callers that still need one). */
  get hashKey(): bigint {
    this.#hashKey ??= hashKeyFromParts(this)
    return this.#hashKey
  }

  /** The open shard of `map` that owns this key; remembered until asked about another map. */
  shardIn(map: ShardMap): string | undefined {
    if (map !== this.#map) {
      this.#shardId = map.shardForParts(this)
      this.#map = map
    }
    return this.#shardId
  }
}

/** Bits of the first-sighting filter per cache entry, and its bounds (1 KiB .. 1 MiB). */
const SEEN_BITS_PER_ENTRY = 32
const MIN_SEEN_BITS = 1 << 13
const MAX_SEEN_BITS = 1 << 23

/**
 * Partition key → PartitionKeyEntry, for the most recently used keys. Keys repeat in real traffic;
 * two generations instead of a strict LRU: a hit costs one Map lookup, and memory is bounded by
 * 2 × `maxEntries`.
 *
 * A key is remembered from its second sighting on. A first sighting only marks two bits of a fixed
 * filter, so a flood of unique keys neither evicts the hot ones nor fills the Maps with entries
 * that live just long enough to be promoted to the old heap generation, where collecting them is
 * expensive: each unique key costs one hash and one short-lived object.
 */
export class HashKeyCache {
  #young = new Map<string, PartitionKeyEntry>()
  #old = new Map<string, PartitionKeyEntry>()
  readonly #maxEntries: number
  /** Bloom filter of first sightings (two bits per key), cleared once a sixteenth of it is marked. */
  readonly #seen: Int32Array
  readonly #seenMask: number
  readonly #maxMarked: number
  #marked = 0

  constructor(maxEntries = 10_000) {
    this.#maxEntries = Math.max(1, maxEntries)
    let bits = MIN_SEEN_BITS
    while (bits < this.#maxEntries * SEEN_BITS_PER_ENTRY && bits < MAX_SEEN_BITS) bits *= 2
    this.#seen = new Int32Array(bits >>> 5)
    this.#seenMask = bits - 1
    // At this fill, about one unique key in 70 passes for a second sighting.
    this.#maxMarked = bits >>> 4
  }

  /** The entry for `partitionKey` (the same object for as long as the key stays cached). */
  entry(partitionKey: string): PartitionKeyEntry {
    const young = this.#young.get(partitionKey)
    if (young !== undefined) return young
    let entry = this.#old.get(partitionKey)
    if (entry === undefined) {
      entry = new PartitionKeyEntry(partitionKey)
      if (!this.#seenBefore(entry)) return entry
    }
    if (this.#young.size >= this.#maxEntries) {
      this.#old = this.#young
      this.#young = new Map()
    }
    this.#young.set(partitionKey, entry)
    return entry
  }

  /** The hash key of `partitionKey` as a BigInt. */
  get(partitionKey: string): bigint {
    return this.entry(partitionKey).hashKey
  }

  /** Keys remembered now. */
  get size(): number {
    return this.#young.size + this.#old.size
  }

  /**
   * Whether a key with this hash was marked since the filter was last cleared; marks it otherwise.
   * A filter rather than a table of fingerprints: two hot keys sharing a slot would overwrite each
   * other's mark forever, and neither would ever be remembered.
   */
  #seenBefore(hash: HashKeyParts): boolean {
    const first = hash.low & this.#seenMask
    const second = hash.middle & this.#seenMask
    const seen = this.#seen
    const firstBit = 1 << (first & 31)
    const secondBit = 1 << (second & 31)
    if ((seen[first >>> 5]! & firstBit) !== 0 && (seen[second >>> 5]! & secondBit) !== 0) return true
    seen[first >>> 5]! |= firstBit
    seen[second >>> 5]! |= secondBit
    if (++this.#marked >= this.#maxMarked) {
      seen.fill(0)
      this.#marked = 0
    }
    return false
  }
}

import { hashKeyOf } from './hash-key.js'

/**
 * Partition key → hash key, remembered for the most recently used keys. Keys repeat in real
 * traffic, and MD5 + BigInt per record is the producer's hottest cost. Two generations instead of
 * a strict LRU: a hit costs one Map lookup, and memory is bounded by 2 × `maxEntries`.
 */
export class HashKeyCache {
  #young = new Map<string, bigint>()
  #old = new Map<string, bigint>()
  readonly #maxEntries: number

  constructor(maxEntries = 10_000) {
    this.#maxEntries = Math.max(1, maxEntries)
  }

  get(partitionKey: string): bigint {
    const young = this.#young.get(partitionKey)
    if (young !== undefined) return young
    const hashKey = this.#old.get(partitionKey) ?? hashKeyOf(partitionKey)
    if (this.#young.size >= this.#maxEntries) {
      this.#old = this.#young
      this.#young = new Map()
    }
    this.#young.set(partitionKey, hashKey)
    return hashKey
  }

  get size(): number {
    return this.#young.size + this.#old.size
  }
}

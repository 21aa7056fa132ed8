import { utf8Length, writeUtf8 } from './utf8.js'
import { writeVarint } from './varint.js'

/**
 * A key as the builder sees it: its UTF-8 length, and its place in the current aggregate. A caller
 * that keeps one object per key (the producer's hash-key cache entry) can pass it as the slot, so
 * the builder needs no lookup of its own.
 */
export interface KeySlot {
  readonly key: string
  readonly byteLength: number
  /** The aggregate (generation) this key was last added to; its index there. */
  generation: number
  index: number
}

/**
 * Generations are unique across all tables, not per table: a slot passed in by the caller can go
 * into several builders' aggregates (one per shard), and a generation number another table also
 * used would make `indexOf` answer an index from the wrong aggregate.
 */
let nextGeneration = 1

/**
 * The partition-key or explicit-hash-key table of the aggregate being built. Slots outlive an
 * aggregate (two bounded generations), so a key seen before costs one Map lookup and no UTF-8
 * work, and starting the next aggregate is a counter increment rather than clearing a Map.
 */
export class KeyTable {
  #young = new Map<string, KeySlot>()
  #old = new Map<string, KeySlot>()
  readonly #maxRemembered: number
  #generation = nextGeneration++
  /**
   * Keys of the current aggregate, in index order: the first `size` entries. Kept at capacity between
   * aggregates (truncating an array in V8 frees its backing store, to be regrown per aggregate).
   */
  readonly #slots: KeySlot[] = []
  #size = 0

  constructor(maxRemembered = 16_384) {
    this.#maxRemembered = maxRemembered
  }

  slotFor(key: string): KeySlot {
    let slot = this.#young.get(key)
    if (slot !== undefined) return slot
    slot = this.#old.get(key) ?? { key, byteLength: utf8Length(key), generation: 0, index: 0 }
    if (this.#young.size >= this.#maxRemembered) {
      this.#old = this.#young
      this.#young = new Map()
    }
    this.#young.set(key, slot)
    return slot
  }

  /** The slot's index in the current aggregate, or -1 when it is not in it yet. */
  indexOf(slot: KeySlot): number {
    return slot.generation === this.#generation ? slot.index : -1
  }

  /** Keys in the current aggregate. */
  get size(): number {
    return this.#size
  }

  add(slot: KeySlot): void {
    slot.generation = this.#generation
    slot.index = this.#size
    this.#slots[this.#size++] = slot
  }

  /** Starts a new aggregate. */
  clear(): void {
    this.#generation = nextGeneration++
    this.#size = 0
  }

  write(out: Buffer, start: number, tag: number): number {
    let offset = start
    for (let i = 0; i < this.#size; i++) {
      const slot = this.#slots[i]!
      out[offset++] = tag
      offset = writeVarint(out, offset, slot.byteLength)
      offset = writeUtf8(out, offset, slot.key, slot.byteLength)
    }
    return offset
  }
}

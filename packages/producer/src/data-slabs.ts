/** Bytes of one shared slab. */
const SLAB_BYTES = 32 * 1024
/** From this size on a record's data gets a buffer of its own: it would waste most of a slab. */
const OWN_BUFFER_FROM = 4 * 1024
const EMPTY = Buffer.alloc(0)

/**
 * The producer's copies of its callers' record data, packed into shared 32 KiB slabs: a record
 * holds its slab, an offset and a length, not a Buffer of its own. A Buffer is a view object of
 * about 100 bytes, and a record waits about a second in a busy producer, so every young-generation
 * collection copied each one (scavenges were ~40% of the producer's CPU at 300k × 100 B). A slab
 * lives while any record in it does: at most 32 KiB held for a record retried long.
 */
export class DataSlabs {
  /** Where the last copy went: a shared slab, or the record's own buffer for large data. */
  buffer: Buffer = EMPTY
  #slab: Buffer = EMPTY
  #used = 0

  /**
   * Copies `raw` (bytes, or a string as its `length` UTF-8 bytes) and returns its offset in
   * `buffer`. Copied now, not when the record leaves: a caller that refills its buffer after
   * addUserRecord returns (a pooled or reused Buffer) must not change what is sent.
   */
  copy(raw: Uint8Array | string, length: number): number {
    if (length >= OWN_BUFFER_FROM) {
      this.buffer = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : Buffer.from(raw)
      return 0
    }
    if (this.#used + length > this.#slab.length) {
      this.#slab = Buffer.allocUnsafeSlow(SLAB_BYTES)
      this.#used = 0
    }
    const slab = this.#slab
    const offset = this.#used
    if (typeof raw === 'string') slab.write(raw, offset, length, 'utf8')
    else copyRange(slab, offset, raw, 0, length)
    this.#used = offset + length
    this.buffer = slab
    return offset
  }
}

/**
 * Copies `length` bytes of `source` from `from` into `out` at `at`; returns the offset after them. Up to
 * 32 bytes a loop, beyond a native copy: measured on Node 20, a loop costs about 1.5 ns a byte and a
 * subarray view with `set` about 65 ns whatever the size, so they break even near 32 bytes (a 128-byte
 * threshold cost 0.3–0.4 µs more CPU per 100 B record in the producer benchmark, 3 runs each).
 */
export function copyRange(out: Uint8Array, at: number, source: Uint8Array, from: number, length: number): number {
  if (length <= 32) {
    for (let i = 0; i < length; i++) out[at + i] = source[from + i]!
  } else {
    out.set(from === 0 && length === source.length ? source : source.subarray(from, from + length), at)
  }
  return at + length
}

import { hash } from 'node:crypto'
import { type KeySlot, KeyTable } from './key-table.js'
import { AGGREGATE_OVERHEAD, CHECKSUM_LENGTH, KPL_MAGIC, MAGIC_LENGTH, Tags } from './schema.js'
import { copyBytes } from './utf8.js'
import { delimitedFieldLength, varintLength, writeVarint } from './varint.js'

/** A user record as it goes into an aggregate. */
export interface AggregationInput {
  readonly partitionKey: string
  readonly explicitHashKey?: string | undefined
  readonly data: Uint8Array
  /** `data.length`, when the input knows it without reading `data`. */
  readonly dataLength?: number
  /**
   * Copies the record's data into `out` at `offset` and returns the offset after it. With this and
   * `dataLength`, the builder never reads `data` (a holder of bytes in a shared buffer would make a
   * view object per read).
   */
  writeDataTo?(out: Uint8Array, offset: number): number
  /**
   * The caller's own slot for `partitionKey` (its `key` must be `partitionKey`), e.g. the
   * HashKeyCache entry: the builder then skips its own key lookup and UTF-8 measuring.
   */
  readonly partitionKeySlot?: KeySlot | undefined
  /** The record's headers as `encodeHeaderTags()` encodes them; they count in every size. */
  readonly tags?: Uint8Array | undefined
}

const NO_EXPLICIT_HASH_KEY = -1

/**
 * Builds one KPL aggregate incrementally and always knows its exact encoded size in bytes
 * (magic + protobuf body + MD5), so a caller can fill an aggregate to the byte: `sizeWith()`
 * answers what the size would be with one more record, counting new key-table entries.
 */
export class AggregateBuilder {
  readonly #partitionKeys = new KeyTable()
  readonly #explicitHashKeys = new KeyTable()
  // The first #count entries of each are the aggregate's records. They keep their capacity between
  // aggregates: truncating an array in V8 frees its backing store, to be regrown per aggregate.
  readonly #partitionKeyIndexes: number[] = []
  readonly #explicitHashKeyIndexes: number[] = []
  readonly #records: (AggregationInput | undefined)[] = []
  #count = 0
  #bodyBytes = 0
  #pendingPartitionKey: KeySlot | undefined
  #pendingExplicitHashKey: KeySlot | undefined

  /** User records added so far. */
  get count(): number {
    return this.#count
  }

  /** Exact size of `build()`'s output now. */
  get size(): number {
    return AGGREGATE_OVERHEAD + this.#bodyBytes
  }

  /** Exact encoded size if `record` were added. */
  sizeWith(record: AggregationInput): number {
    return this.size + this.#growth(record)
  }

  /** Adds `record` if the aggregate then stays within `maxBytes` bytes and `maxCount` records. */
  tryAdd(record: AggregationInput, maxBytes: number, maxCount = Number.POSITIVE_INFINITY): boolean {
    if (this.#count >= maxCount) return false
    const growth = this.#growth(record)
    if (this.size + growth > maxBytes) return false
    this.#append(record, growth)
    return true
  }

  /** Adds `record` unconditionally. */
  add(record: AggregationInput): void {
    this.#append(record, this.#growth(record))
  }

  /** Encodes the aggregate: magic, protobuf body, MD5 of the body. */
  build(): Buffer {
    const size = this.size
    const out = Buffer.allocUnsafe(size)
    for (let i = 0; i < MAGIC_LENGTH; i++) out[i] = KPL_MAGIC[i]!
    let offset = this.#partitionKeys.write(out, MAGIC_LENGTH, Tags.partitionKeyTable)
    offset = this.#explicitHashKeys.write(out, offset, Tags.explicitHashKeyTable)
    for (let i = 0; i < this.#count; i++) {
      const record = this.#records[i]!
      const pkIndex = this.#partitionKeyIndexes[i]!
      const ehkIndex = this.#explicitHashKeyIndexes[i]!
      const tags = record.tags
      const dataLength = dataLengthOf(record)
      out[offset++] = Tags.record
      offset = writeVarint(out, offset, recordBodyLength(pkIndex, ehkIndex, dataLength, tags))
      out[offset++] = Tags.recordPartitionKeyIndex
      offset = writeVarint(out, offset, pkIndex)
      if (ehkIndex !== NO_EXPLICIT_HASH_KEY) {
        out[offset++] = Tags.recordExplicitHashKeyIndex
        offset = writeVarint(out, offset, ehkIndex)
      }
      out[offset++] = Tags.recordData
      offset = writeVarint(out, offset, dataLength)
      offset = record.writeDataTo === undefined ? copyBytes(out, offset, record.data) : record.writeDataTo(out, offset)
      if (tags !== undefined) offset = copyBytes(out, offset, tags)
    }
    const digest = hash('md5', out.subarray(MAGIC_LENGTH, offset), 'buffer') as unknown as Buffer
    digest.copy(out, offset)
    offset += CHECKSUM_LENGTH
    if (offset !== size) {
      // Size accounting and encoding disagree: a bug that would send truncated data, so stop here.
      throw new Error(`AggregateBuilder size mismatch: computed ${size}, wrote ${offset}`)
    }
    return out
  }

  /** Empties the builder for reuse. */
  reset(): void {
    this.#partitionKeys.clear()
    this.#explicitHashKeys.clear()
    // The records go (nothing here keeps them alive); the arrays keep their capacity.
    for (let i = 0; i < this.#count; i++) this.#records[i] = undefined
    this.#count = 0
    this.#bodyBytes = 0
  }

  /** Bytes `record` would add; leaves the key slots it needs in #pending* for #append. */
  #growth(record: AggregationInput): number {
    const pkSlot = record.partitionKeySlot ?? this.#partitionKeys.slotFor(record.partitionKey)
    let pkIndex = this.#partitionKeys.indexOf(pkSlot)
    let growth = 0
    if (pkIndex < 0) {
      pkIndex = this.#partitionKeys.size
      growth += delimitedFieldLength(pkSlot.byteLength)
    }
    let ehkSlot: KeySlot | undefined
    let ehkIndex = NO_EXPLICIT_HASH_KEY
    if (record.explicitHashKey !== undefined) {
      ehkSlot = this.#explicitHashKeys.slotFor(record.explicitHashKey)
      ehkIndex = this.#explicitHashKeys.indexOf(ehkSlot)
      if (ehkIndex < 0) {
        ehkIndex = this.#explicitHashKeys.size
        growth += delimitedFieldLength(ehkSlot.byteLength)
      }
    }
    this.#pendingPartitionKey = pkSlot
    this.#pendingExplicitHashKey = ehkSlot
    return growth + delimitedFieldLength(recordBodyLength(pkIndex, ehkIndex, dataLengthOf(record), record.tags))
  }

  #append(record: AggregationInput, growth: number): void {
    const pkSlot = this.#pendingPartitionKey!
    if (this.#partitionKeys.indexOf(pkSlot) < 0) this.#partitionKeys.add(pkSlot)
    const i = this.#count++
    this.#partitionKeyIndexes[i] = pkSlot.index
    const ehkSlot = this.#pendingExplicitHashKey
    if (ehkSlot === undefined) {
      this.#explicitHashKeyIndexes[i] = NO_EXPLICIT_HASH_KEY
    } else {
      if (this.#explicitHashKeys.indexOf(ehkSlot) < 0) this.#explicitHashKeys.add(ehkSlot)
      this.#explicitHashKeyIndexes[i] = ehkSlot.index
    }
    this.#records[i] = record
    this.#bodyBytes += growth
  }
}

function dataLengthOf(record: AggregationInput): number {
  return record.dataLength ?? record.data.length
}

function recordBodyLength(pkIndex: number, ehkIndex: number, dataLength: number, tags: Uint8Array | undefined): number {
  return (
    1 +
    varintLength(pkIndex) +
    (ehkIndex === NO_EXPLICIT_HASH_KEY ? 0 : 1 + varintLength(ehkIndex)) +
    delimitedFieldLength(dataLength) +
    (tags === undefined ? 0 : tags.length)
  )
}

/**
 * Exact size of an aggregate holding `record` alone, from the UTF-8 lengths of its keys: what a record
 * with headers (which only an aggregate carries) takes when it has to go by itself.
 */
export function soleAggregateSize(
  record: AggregationInput,
  partitionKeyBytes: number,
  explicitHashKeyBytes: number | undefined,
): number {
  const ehkIndex = explicitHashKeyBytes === undefined ? NO_EXPLICIT_HASH_KEY : 0
  return (
    AGGREGATE_OVERHEAD +
    delimitedFieldLength(partitionKeyBytes) +
    (explicitHashKeyBytes === undefined ? 0 : delimitedFieldLength(explicitHashKeyBytes)) +
    delimitedFieldLength(recordBodyLength(0, ehkIndex, dataLengthOf(record), record.tags))
  )
}

/** Encodes user records into one KPL aggregate (whatever their count, even one). */
export function encodeAggregated(records: readonly AggregationInput[]): Buffer {
  const builder = new AggregateBuilder()
  for (const record of records) builder.add(record)
  return builder.build()
}

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
  readonly #partitionKeyIndexes: number[] = []
  readonly #explicitHashKeyIndexes: number[] = []
  readonly #data: Uint8Array[] = []
  readonly #tags: (Uint8Array | undefined)[] = []
  #bodyBytes = 0
  #pendingPartitionKey: KeySlot | undefined
  #pendingExplicitHashKey: KeySlot | undefined
  /** `record.data` as #growth read it: a record's `data` may be a getter making a view per read. */
  #pendingData: Uint8Array | undefined

  /** User records added so far. */
  get count(): number {
    return this.#data.length
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
    if (this.#data.length >= maxCount) return false
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
    for (let i = 0; i < this.#data.length; i++) {
      const data = this.#data[i]!
      const pkIndex = this.#partitionKeyIndexes[i]!
      const ehkIndex = this.#explicitHashKeyIndexes[i]!
      const tags = this.#tags[i]
      out[offset++] = Tags.record
      offset = writeVarint(out, offset, recordBodyLength(pkIndex, ehkIndex, data.length, tags))
      out[offset++] = Tags.recordPartitionKeyIndex
      offset = writeVarint(out, offset, pkIndex)
      if (ehkIndex !== NO_EXPLICIT_HASH_KEY) {
        out[offset++] = Tags.recordExplicitHashKeyIndex
        offset = writeVarint(out, offset, ehkIndex)
      }
      out[offset++] = Tags.recordData
      offset = writeVarint(out, offset, data.length)
      offset = copyBytes(out, offset, data)
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
    // Truncate rather than replace: the arrays keep their capacity for the next aggregate.
    this.#partitionKeyIndexes.length = 0
    this.#explicitHashKeyIndexes.length = 0
    this.#data.length = 0
    this.#tags.length = 0
    this.#bodyBytes = 0
  }

  /** Bytes `record` would add; leaves the key slots it needs in #pending* for #append. */
  #growth(record: AggregationInput): number {
    const pkSlot = record.partitionKeySlot ?? this.#partitionKeys.slotFor(record.partitionKey)
    let pkIndex = this.#partitionKeys.indexOf(pkSlot)
    let growth = 0
    if (pkIndex < 0) {
      pkIndex = this.#partitionKeys.slots.length
      growth += delimitedFieldLength(pkSlot.byteLength)
    }
    let ehkSlot: KeySlot | undefined
    let ehkIndex = NO_EXPLICIT_HASH_KEY
    if (record.explicitHashKey !== undefined) {
      ehkSlot = this.#explicitHashKeys.slotFor(record.explicitHashKey)
      ehkIndex = this.#explicitHashKeys.indexOf(ehkSlot)
      if (ehkIndex < 0) {
        ehkIndex = this.#explicitHashKeys.slots.length
        growth += delimitedFieldLength(ehkSlot.byteLength)
      }
    }
    const data = record.data
    this.#pendingPartitionKey = pkSlot
    this.#pendingExplicitHashKey = ehkSlot
    this.#pendingData = data
    return growth + delimitedFieldLength(recordBodyLength(pkIndex, ehkIndex, data.length, record.tags))
  }

  #append(record: AggregationInput, growth: number): void {
    const pkSlot = this.#pendingPartitionKey!
    if (this.#partitionKeys.indexOf(pkSlot) < 0) this.#partitionKeys.add(pkSlot)
    this.#partitionKeyIndexes.push(pkSlot.index)
    const ehkSlot = this.#pendingExplicitHashKey
    if (ehkSlot === undefined) {
      this.#explicitHashKeyIndexes.push(NO_EXPLICIT_HASH_KEY)
    } else {
      if (this.#explicitHashKeys.indexOf(ehkSlot) < 0) this.#explicitHashKeys.add(ehkSlot)
      this.#explicitHashKeyIndexes.push(ehkSlot.index)
    }
    this.#data.push(this.#pendingData!)
    this.#pendingData = undefined
    this.#tags.push(record.tags)
    this.#bodyBytes += growth
  }
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
    delimitedFieldLength(recordBodyLength(0, ehkIndex, record.data.length, record.tags))
  )
}

/** Encodes user records into one KPL aggregate (whatever their count, even one). */
export function encodeAggregated(records: readonly AggregationInput[]): Buffer {
  const builder = new AggregateBuilder()
  for (const record of records) builder.add(record)
  return builder.build()
}

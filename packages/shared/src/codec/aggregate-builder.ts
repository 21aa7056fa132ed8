import { hash } from 'node:crypto'
import { AGGREGATE_OVERHEAD, CHECKSUM_LENGTH, KPL_MAGIC, MAGIC_LENGTH, Tags } from './schema.js'
import { delimitedFieldLength, varintLength, writeVarint } from './varint.js'

/** A user record as it goes into an aggregate. */
export interface AggregationInput {
  readonly partitionKey: string
  readonly explicitHashKey?: string | undefined
  readonly data: Uint8Array
}

interface KeyTable {
  readonly index: Map<string, number>
  readonly keys: string[]
  readonly byteLengths: number[]
}

function newKeyTable(): KeyTable {
  return { index: new Map(), keys: [], byteLengths: [] }
}

/**
 * Builds one KPL aggregate incrementally and always knows its exact encoded size in bytes
 * (magic + protobuf body + MD5), so a caller can fill an aggregate to the byte: `sizeWith()`
 * answers what the size would be with one more record, counting new key-table entries.
 */
export class AggregateBuilder {
  readonly #partitionKeys = newKeyTable()
  readonly #explicitHashKeys = newKeyTable()
  #partitionKeyIndexes: number[] = []
  #explicitHashKeyIndexes: number[] = []
  #data: Uint8Array[] = []
  #bodyBytes = 0

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
    out.set(KPL_MAGIC, 0)
    let offset = MAGIC_LENGTH
    offset = writeKeyTable(out, offset, Tags.partitionKeyTable, this.#partitionKeys)
    offset = writeKeyTable(out, offset, Tags.explicitHashKeyTable, this.#explicitHashKeys)
    for (let i = 0; i < this.#data.length; i++) {
      const data = this.#data[i]!
      const pkIndex = this.#partitionKeyIndexes[i]!
      const ehkIndex = this.#explicitHashKeyIndexes[i]!
      out[offset++] = Tags.record
      offset = writeVarint(out, offset, recordBodyLength(pkIndex, ehkIndex, data.length))
      out[offset++] = Tags.recordPartitionKeyIndex
      offset = writeVarint(out, offset, pkIndex)
      if (ehkIndex >= 0) {
        out[offset++] = Tags.recordExplicitHashKeyIndex
        offset = writeVarint(out, offset, ehkIndex)
      }
      out[offset++] = Tags.recordData
      offset = writeVarint(out, offset, data.length)
      out.set(data, offset)
      offset += data.length
    }
    const digest = hash('md5', out.subarray(MAGIC_LENGTH, offset), 'buffer') as unknown as Buffer
    out.set(digest, offset)
    offset += CHECKSUM_LENGTH
    if (offset !== size) {
      // Size accounting and encoding disagree: a bug that would send truncated data, so stop here.
      throw new Error(`AggregateBuilder size mismatch: computed ${size}, wrote ${offset}`)
    }
    return out
  }

  /** Empties the builder for reuse. */
  reset(): void {
    for (const table of [this.#partitionKeys, this.#explicitHashKeys]) {
      table.index.clear()
      table.keys.length = 0
      table.byteLengths.length = 0
    }
    this.#partitionKeyIndexes = []
    this.#explicitHashKeyIndexes = []
    this.#data = []
    this.#bodyBytes = 0
  }

  #growth(record: AggregationInput): number {
    let growth = 0
    let pkIndex = this.#partitionKeys.index.get(record.partitionKey)
    if (pkIndex === undefined) {
      pkIndex = this.#partitionKeys.keys.length
      growth += delimitedFieldLength(Buffer.byteLength(record.partitionKey, 'utf8'))
    }
    let ehkIndex = -1
    const ehk = record.explicitHashKey
    if (ehk !== undefined) {
      const existing = this.#explicitHashKeys.index.get(ehk)
      if (existing === undefined) {
        ehkIndex = this.#explicitHashKeys.keys.length
        growth += delimitedFieldLength(Buffer.byteLength(ehk, 'utf8'))
      } else {
        ehkIndex = existing
      }
    }
    return growth + delimitedFieldLength(recordBodyLength(pkIndex, ehkIndex, record.data.length))
  }

  #append(record: AggregationInput, growth: number): void {
    this.#partitionKeyIndexes.push(addKey(this.#partitionKeys, record.partitionKey))
    this.#explicitHashKeyIndexes.push(
      record.explicitHashKey === undefined ? -1 : addKey(this.#explicitHashKeys, record.explicitHashKey),
    )
    this.#data.push(record.data)
    this.#bodyBytes += growth
  }
}

function addKey(table: KeyTable, key: string): number {
  const existing = table.index.get(key)
  if (existing !== undefined) return existing
  const index = table.keys.length
  table.index.set(key, index)
  table.keys.push(key)
  table.byteLengths.push(Buffer.byteLength(key, 'utf8'))
  return index
}

function recordBodyLength(pkIndex: number, ehkIndex: number, dataLength: number): number {
  return 1 + varintLength(pkIndex) + (ehkIndex >= 0 ? 1 + varintLength(ehkIndex) : 0) + delimitedFieldLength(dataLength)
}

function writeKeyTable(out: Buffer, start: number, tag: number, table: KeyTable): number {
  let offset = start
  for (let i = 0; i < table.keys.length; i++) {
    const length = table.byteLengths[i]!
    out[offset++] = tag
    offset = writeVarint(out, offset, length)
    offset += out.write(table.keys[i]!, offset, length, 'utf8')
  }
  return offset
}

/** Encodes user records into one KPL aggregate (whatever their count, even one). */
export function encodeAggregated(records: readonly AggregationInput[]): Buffer {
  const builder = new AggregateBuilder()
  for (const record of records) builder.add(record)
  return builder.build()
}

import { hash } from 'node:crypto'
import protobuf from 'protobufjs/minimal.js'
import { CHECKSUM_LENGTH, MAGIC_LENGTH, hasKplMagic } from './schema.js'
import { NO_HEADERS, type RecordHeaders } from './tags.js'

/** One user record out of a Kinesis record, aggregated or not. */
export interface DeaggregatedRecord {
  readonly partitionKey: string
  readonly explicitHashKey: string | undefined
  /** A view of the input bytes (no copy). */
  readonly data: Uint8Array
  /** Position inside the aggregate, from 0; 0 for a plain record. */
  readonly subSequenceNumber: number
  /** False for plain (and corrupt) records. */
  readonly aggregated: boolean
  /** The user record's KPL tags; NO_HEADERS (empty) for plain records and records without tags. */
  readonly headers: RecordHeaders
}

/** The outer Kinesis record's keys: used for records that turn out not to be aggregates. */
export interface OuterKeys {
  readonly partitionKey?: string | undefined
  readonly explicitHashKey?: string | undefined
}

class CorruptAggregateError extends Error {}

function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength)
}

/**
 * Splits a Kinesis record into its user records. Never throws on bad bytes: wrong magic,
 * a bad checksum, a truncated or unparsable body, or key indexes out of range give back one
 * plain record holding the original bytes, as the Java KCL does.
 */
export function decodeAggregated(data: Uint8Array, outer: OuterKeys = {}): DeaggregatedRecord[] {
  const bytes = asBuffer(data)
  if (bytes.length >= MAGIC_LENGTH + CHECKSUM_LENGTH && hasKplMagic(bytes)) {
    const bodyEnd = bytes.length - CHECKSUM_LENGTH
    const body = bytes.subarray(MAGIC_LENGTH, bodyEnd)
    const digest = hash('md5', body, 'buffer') as unknown as Buffer
    if (digest.equals(bytes.subarray(bodyEnd))) {
      try {
        return parseBody(body)
      } catch {
        // A body that does not parse is delivered as one plain record below.
      }
    }
  }
  return [
    {
      partitionKey: outer.partitionKey ?? '',
      explicitHashKey: outer.explicitHashKey,
      data: bytes,
      subSequenceNumber: 0,
      aggregated: false,
      headers: NO_HEADERS,
    },
  ]
}

interface RawRecord {
  pkIndex: number
  ehkIndex: number
  data: Uint8Array
  headers: RecordHeaders
}

function parseBody(body: Buffer): DeaggregatedRecord[] {
  const reader = protobuf.Reader.create(body)
  const partitionKeys: string[] = []
  const explicitHashKeys: string[] = []
  const raw: RawRecord[] = []
  while (reader.pos < reader.len) {
    const tag = reader.uint32()
    const field = tag >>> 3
    const wireType = tag & 7
    if (field >= 1 && field <= 3 && wireType !== 2) throw new CorruptAggregateError('wrong wire type')
    if (field === 1) partitionKeys.push(reader.string())
    else if (field === 2) explicitHashKeys.push(reader.string())
    else if (field === 3) raw.push(parseRecord(reader))
    else if (field === 0) throw new CorruptAggregateError('field number 0')
    else reader.skipType(wireType)
  }
  if (raw.length === 0) throw new CorruptAggregateError('no records')
  const out = new Array<DeaggregatedRecord>(raw.length)
  for (let i = 0; i < raw.length; i++) {
    const record = raw[i]!
    const partitionKey = partitionKeys[record.pkIndex]
    if (partitionKey === undefined) throw new CorruptAggregateError('partition key index out of range')
    let explicitHashKey: string | undefined
    if (record.ehkIndex >= 0) {
      explicitHashKey = explicitHashKeys[record.ehkIndex]
      if (explicitHashKey === undefined) throw new CorruptAggregateError('explicit hash key index out of range')
    }
    out[i] = {
      partitionKey,
      explicitHashKey,
      data: record.data,
      subSequenceNumber: i,
      aggregated: true,
      headers: record.headers,
    }
  }
  return out
}

function parseRecord(reader: protobuf.Reader): RawRecord {
  const end = reader.uint32() + reader.pos
  if (end > reader.len) throw new CorruptAggregateError('record overruns the body')
  let pkIndex = -1
  let ehkIndex = -1
  let data: Uint8Array | undefined
  let headers: Record<string, string> | undefined
  while (reader.pos < end) {
    const tag = reader.uint32()
    switch (tag) {
      case 0x08:
        pkIndex = reader.uint32()
        break
      case 0x10:
        ehkIndex = reader.uint32()
        break
      case 0x1a:
        data = reader.bytes()
        break
      case 0x22:
        // A null prototype: a header named __proto__ is a header like any other.
        headers ??= Object.create(null) as Record<string, string>
        parseTag(reader, headers)
        break
      default:
        if (tag >>> 3 === 0) throw new CorruptAggregateError('field number 0')
        reader.skipType(tag & 7)
    }
  }
  if (reader.pos !== end) throw new CorruptAggregateError('record length mismatch')
  // proto2 required fields: a record without them is not a valid aggregate.
  if (pkIndex < 0 || data === undefined) throw new CorruptAggregateError('missing required field')
  return { pkIndex, ehkIndex, data, headers: headers ?? NO_HEADERS }
}

/** One `Tag { required string key = 1; optional string value = 2 }`; a tag without a value reads as ''. */
function parseTag(reader: protobuf.Reader, into: Record<string, string>): void {
  const end = reader.uint32() + reader.pos
  if (end > reader.len) throw new CorruptAggregateError('tag overruns the record')
  let key: string | undefined
  let value = ''
  while (reader.pos < end) {
    const tag = reader.uint32()
    if (tag === 0x0a) key = reader.string()
    else if (tag === 0x12) value = reader.string()
    else if (tag >>> 3 === 0) throw new CorruptAggregateError('field number 0')
    else reader.skipType(tag & 7)
  }
  if (reader.pos !== end) throw new CorruptAggregateError('tag length mismatch')
  if (key === undefined) throw new CorruptAggregateError('tag without its required key')
  into[key] = value
}

/** True when the bytes are a well-formed KPL aggregate (magic and checksum match). */
export function isAggregated(data: Uint8Array): boolean {
  const bytes = asBuffer(data)
  if (bytes.length < MAGIC_LENGTH + CHECKSUM_LENGTH || !hasKplMagic(bytes)) return false
  const bodyEnd = bytes.length - CHECKSUM_LENGTH
  const digest = hash('md5', bytes.subarray(MAGIC_LENGTH, bodyEnd), 'buffer') as unknown as Buffer
  return digest.equals(bytes.subarray(bodyEnd))
}

/** One entry of a PutRecords request, as the producer holds it. */
export interface PutRecordsBodyEntry {
  readonly data: Uint8Array
  readonly partitionKey: string
  readonly explicitHashKey?: string | undefined
}

/** The stream a request writes to: by ARN when there is one, else by name (as the SDK input takes it). */
export interface PutRecordsStream {
  readonly streamName?: string | undefined
  readonly streamARN?: string | undefined
}

const OPEN_RECORDS = '{"Records":['
const OPEN_DATA = '{"Data":"'
const OPEN_EXPLICIT_HASH_KEY = '","ExplicitHashKey":'
const OPEN_PARTITION_KEY = '","PartitionKey":'
const OPEN_PARTITION_KEY_AFTER_STRING = ',"PartitionKey":'

/**
 * The JSON body of a PutRecords request, in one Buffer of exactly its size: the same document the
 * SDK writes for the same input (members in the SDK's order), with each record's data base64-encoded
 * by Node's native encoder instead of the SDK's byte-by-byte JavaScript loop.
 */
export function encodePutRecordsBody(stream: PutRecordsStream, records: readonly PutRecordsBodyEntry[]): Buffer {
  const tail =
    stream.streamARN !== undefined
      ? `],"StreamARN":${JSON.stringify(stream.streamARN)}}`
      : `],"StreamName":${JSON.stringify(stream.streamName ?? '')}}`
  // Keys that need JSON escaping or are not ASCII are rare: their encodings are kept from the sizing
  // pass to the writing pass here, by record index.
  let escapedKeys: Map<number, string> | undefined
  let size = OPEN_RECORDS.length + Buffer.byteLength(tail) + Math.max(0, records.length - 1)
  for (let i = 0; i < records.length; i++) {
    const { data, partitionKey, explicitHashKey } = records[i]!
    // {"Data":"…" then ,"ExplicitHashKey":"…" when there is one, then ,"PartitionKey":"…"}
    size += OPEN_DATA.length + base64Length(data.length) + 1
    if (explicitHashKey !== undefined) size += OPEN_EXPLICIT_HASH_KEY.length - 1 + jsonStringBytes(explicitHashKey)
    size += OPEN_PARTITION_KEY.length - 1
    if (isPlainAscii(partitionKey)) {
      size += partitionKey.length + 2
    } else {
      const escaped = JSON.stringify(partitionKey)
      escapedKeys ??= new Map()
      escapedKeys.set(i, escaped)
      size += Buffer.byteLength(escaped)
    }
    size += 1
  }

  const out = Buffer.allocUnsafe(size)
  let offset = out.write(OPEN_RECORDS, 0, 'latin1')
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!
    if (i > 0) out[offset++] = 0x2c // ,
    offset += out.write(OPEN_DATA, offset, 'latin1')
    offset += out.write(toBase64(record.data), offset, 'latin1')
    if (record.explicitHashKey !== undefined) {
      offset += out.write(OPEN_EXPLICIT_HASH_KEY, offset, 'latin1')
      offset += out.write(JSON.stringify(record.explicitHashKey), offset, 'utf8')
      offset += out.write(OPEN_PARTITION_KEY_AFTER_STRING, offset, 'latin1')
    } else {
      offset += out.write(OPEN_PARTITION_KEY, offset, 'latin1')
    }
    const escaped = escapedKeys?.get(i)
    if (escaped !== undefined) {
      offset += out.write(escaped, offset, 'utf8')
    } else {
      out[offset++] = 0x22 // "
      offset += out.write(record.partitionKey, offset, 'latin1')
      out[offset++] = 0x22
    }
    out[offset++] = 0x7d // }
  }
  offset += out.write(tail, offset, 'utf8')
  if (offset !== size) {
    // Sizing and writing disagree: a bug that would send a truncated or padded body, so stop here.
    throw new Error(`PutRecords body size mismatch: computed ${size}, wrote ${offset}`)
  }
  return out
}

function jsonStringBytes(text: string): number {
  return isPlainAscii(text) ? text.length + 2 : Buffer.byteLength(JSON.stringify(text))
}

function base64Length(bytes: number): number {
  return Math.ceil(bytes / 3) * 4
}

function toBase64(data: Uint8Array): string {
  return (Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength)).toString('base64')
}

/** Printable ASCII other than `"` and `\`: the key is its own JSON string content, one byte a character. */
function isPlainAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i)
    if (unit < 0x20 || unit > 0x7e || unit === 0x22 || unit === 0x5c) return false
  }
  return true
}

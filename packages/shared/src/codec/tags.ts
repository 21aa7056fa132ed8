import { InvalidArgumentError } from '../errors.js'
import { utf8Length, writeUtf8 } from './utf8.js'
import { delimitedFieldLength, writeVarint } from './varint.js'

/**
 * A user record's headers: string keys and values. On the wire they are the KPL `Tag`s of the
 * record (`repeated Tag tags = 4`), which the Java KCL and aws-kinesis-agg parse and ignore, so a
 * reader that does not know headers still gets the record intact.
 */
export type RecordHeaders = Readonly<Record<string, string>>

/** The headers of a record without tags (and of every plain, non-aggregated record). */
export const NO_HEADERS: RecordHeaders = Object.freeze(Object.create(null) as Record<string, string>)

/** Limits on one record's headers. Their bytes also count in the record's size (maxUserRecordSize). */
export const HEADER_LIMITS = Object.freeze({
  /** Headers of one record: each is a Tag message that every reader parses, so they stay few. */
  maxHeaders: 64,
})

/** Field tags of the Tag message and of `Record.tags`. */
const RECORD_TAGS_FIELD = 0x22 // 4, length-delimited
const TAG_KEY_FIELD = 0x0a // 1, length-delimited
const TAG_VALUE_FIELD = 0x12 // 2, length-delimited

/**
 * Checks `headers` and encodes them as the `tags` fields of one Record message, ready to be copied
 * into an aggregate (see AggregationInput.tags). Undefined when there are none, so a record with
 * `{}` costs what a record without headers costs.
 * @throws InvalidArgumentError naming the field and the limit.
 */
export function encodeHeaderTags(headers: RecordHeaders, field = 'headers'): Uint8Array | undefined {
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) {
    throw new InvalidArgumentError(field, 'must be an object of string keys to string values', headers)
  }
  const keys = Object.keys(headers)
  if (keys.length === 0) return undefined
  if (keys.length > HEADER_LIMITS.maxHeaders) {
    throw new InvalidArgumentError(field, `at most ${HEADER_LIMITS.maxHeaders} headers, got ${keys.length}`)
  }
  const keyLengths = new Array<number>(keys.length)
  const valueLengths = new Array<number>(keys.length)
  let total = 0
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!
    const value: unknown = headers[key]
    if (key.length === 0) throw new InvalidArgumentError(`${field} key`, 'must be a non-empty string', key)
    if (typeof value !== 'string') throw new InvalidArgumentError(`${field}.${key}`, 'must be a string', value)
    keyLengths[i] = utf8Length(key)
    valueLengths[i] = utf8Length(value)
    total += delimitedFieldLength(tagLength(keyLengths[i]!, valueLengths[i]!))
  }
  const out = Buffer.allocUnsafe(total)
  let offset = 0
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!
    const keyLength = keyLengths[i]!
    const valueLength = valueLengths[i]!
    out[offset++] = RECORD_TAGS_FIELD
    offset = writeVarint(out, offset, tagLength(keyLength, valueLength))
    out[offset++] = TAG_KEY_FIELD
    offset = writeVarint(out, offset, keyLength)
    offset = writeUtf8(out, offset, key, keyLength)
    out[offset++] = TAG_VALUE_FIELD
    offset = writeVarint(out, offset, valueLength)
    offset = writeUtf8(out, offset, headers[key]!, valueLength)
  }
  return out
}

function tagLength(keyLength: number, valueLength: number): number {
  return delimitedFieldLength(keyLength) + delimitedFieldLength(valueLength)
}

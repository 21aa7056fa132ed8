import {
  InvalidArgumentError,
  type RecordHeaders,
  encodeHeaderTags,
  parseExplicitHashKey,
  soleAggregateSize,
  validatePartitionKey,
} from '@kinesis-ts/shared'
import { AGGREGATE_PARTITION_KEY } from './aggregator.js'
import type { UserRecord } from './types.js'

export interface CheckedRecord {
  readonly partitionKey: string
  /** The caller's data, not copied yet (see DataSlabs). */
  readonly rawData: Uint8Array | string
  /** Its length in bytes (UTF-8 for a string). */
  readonly dataLength: number
  /** Normalized decimal, when given. */
  readonly explicitHashKey: string | undefined
  readonly explicitHashKeyValue: bigint | undefined
  /** data + partition key (+ encoded headers) in bytes, as Kinesis counts a record. */
  readonly bytes: number
  /** The headers as KPL tags; undefined when there are none. */
  readonly tags: Uint8Array | undefined
}

/**
 * Checks one user record against Kinesis' rules and `maxUserRecordSize`. `headers` are the record's
 * (or those tracing made of them).
 * @throws InvalidArgumentError naming the field and the limit.
 */
export function checkUserRecord(
  record: UserRecord,
  maxUserRecordSize: number,
  aggregationEnabled = true,
  headers: RecordHeaders | undefined = record.headers,
): CheckedRecord {
  if (typeof record !== 'object' || record === null) {
    throw new InvalidArgumentError('record', 'must be an object { partitionKey, data, explicitHashKey? }', record)
  }
  const { partitionKey, explicitHashKey } = record
  validatePartitionKey(partitionKey, 'partitionKey')
  const raw: unknown = record.data
  let dataLength: number
  if (raw instanceof Uint8Array) dataLength = raw.length
  else if (typeof raw === 'string') dataLength = Buffer.byteLength(raw, 'utf8')
  else throw new InvalidArgumentError('data', 'must be a Uint8Array, a Buffer or a string', raw)
  const keyBytes = Buffer.byteLength(partitionKey)
  const tags = headers === undefined ? undefined : encodeHeaderTags(headers)
  const bytes = dataLength + keyBytes + (tags === undefined ? 0 : tags.length)
  if (bytes > maxUserRecordSize) {
    const what = tags === undefined ? 'data + partitionKey' : 'data + partitionKey + headers'
    throw new InvalidArgumentError(
      'data',
      `${what} must be at most maxUserRecordSize (${maxUserRecordSize} bytes), got ${bytes} bytes`,
    )
  }
  const value = explicitHashKey === undefined ? undefined : parseExplicitHashKey(explicitHashKey, 'explicitHashKey')
  const normalized = value?.toString(10)
  if (tags !== undefined) {
    // Rare enough for a string's bytes to be made twice.
    const data = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw
    checkTaggedRecord(data, partitionKey, keyBytes, normalized, tags, maxUserRecordSize, aggregationEnabled)
  }
  return {
    partitionKey,
    rawData: raw,
    dataLength,
    explicitHashKey: normalized,
    explicitHashKeyValue: value,
    bytes,
    tags,
  }
}

/**
 * Headers travel only inside an aggregate (as its records' tags), so a record with headers needs
 * aggregation, and its aggregate of one (with the aggregate's partition key) must fit maxUserRecordSize.
 */
function checkTaggedRecord(
  data: Uint8Array,
  partitionKey: string,
  keyBytes: number,
  explicitHashKey: string | undefined,
  tags: Uint8Array,
  maxUserRecordSize: number,
  aggregationEnabled: boolean,
): void {
  if (!aggregationEnabled) {
    throw new InvalidArgumentError(
      'headers',
      'need aggregationEnabled: true (headers travel as the KPL tags of an aggregated record)',
    )
  }
  const ehkBytes = explicitHashKey === undefined ? undefined : explicitHashKey.length
  const alone = soleAggregateSize({ partitionKey, data, tags }, keyBytes, ehkBytes) + AGGREGATE_PARTITION_KEY.length
  if (alone > maxUserRecordSize) {
    throw new InvalidArgumentError(
      'data',
      `data + partitionKey + headers inside their aggregate must be at most maxUserRecordSize (${maxUserRecordSize} bytes), got ${alone} bytes`,
    )
  }
}

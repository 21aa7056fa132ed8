import { InvalidArgumentError, parseExplicitHashKey, validatePartitionKey } from '@kinesis-ts/shared'
import type { UserRecord } from './types.js'

export interface CheckedRecord {
  readonly partitionKey: string
  readonly data: Uint8Array
  /** Normalized decimal, when given. */
  readonly explicitHashKey: string | undefined
  readonly explicitHashKeyValue: bigint | undefined
  /** data + partition key in bytes, as Kinesis counts a record. */
  readonly bytes: number
}

const encoder = new TextEncoder()

/**
 * Checks one user record against Kinesis' rules and `maxUserRecordSize`.
 * @throws InvalidArgumentError naming the field and the limit.
 */
export function checkUserRecord(record: UserRecord, maxUserRecordSize: number): CheckedRecord {
  if (typeof record !== 'object' || record === null) {
    throw new InvalidArgumentError('record', 'must be an object { partitionKey, data, explicitHashKey? }', record)
  }
  const { partitionKey, explicitHashKey } = record
  validatePartitionKey(partitionKey, 'partitionKey')
  const raw: unknown = record.data
  let data: Uint8Array
  if (raw instanceof Uint8Array) data = raw
  else if (typeof raw === 'string') data = encoder.encode(raw)
  else throw new InvalidArgumentError('data', 'must be a Uint8Array, a Buffer or a string', raw)
  const bytes = data.length + Buffer.byteLength(partitionKey)
  if (bytes > maxUserRecordSize) {
    throw new InvalidArgumentError(
      'data',
      `data + partitionKey must be at most maxUserRecordSize (${maxUserRecordSize} bytes), got ${bytes} bytes`,
    )
  }
  if (explicitHashKey === undefined) {
    return { partitionKey, data, explicitHashKey: undefined, explicitHashKeyValue: undefined, bytes }
  }
  const value = parseExplicitHashKey(explicitHashKey, 'explicitHashKey')
  return { partitionKey, data, explicitHashKey: value.toString(10), explicitHashKeyValue: value, bytes }
}

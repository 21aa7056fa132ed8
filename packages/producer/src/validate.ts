import { InvalidArgumentError, parseExplicitHashKey, validatePartitionKey } from '@kinesis-ts/shared'
import type { UserRecord } from './types.js'

export interface CheckedRecord {
  readonly partitionKey: string
  /** The producer's own copy of the data: the caller may reuse its buffer once the call returns. */
  readonly data: Uint8Array
  /** Normalized decimal, when given. */
  readonly explicitHashKey: string | undefined
  readonly explicitHashKeyValue: bigint | undefined
  /** data + partition key in bytes, as Kinesis counts a record. */
  readonly bytes: number
}

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
  // Copied now, not when the record leaves: a caller that refills its buffer after addUserRecord
  // returns (a pooled or reused Buffer) must not change what is sent. Buffer.from copies small
  // records into Node's shared pool, so the copy costs no allocation of its own.
  if (raw instanceof Uint8Array) data = Buffer.from(raw)
  else if (typeof raw === 'string') data = Buffer.from(raw, 'utf8')
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

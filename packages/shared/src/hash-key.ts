import { hash } from 'node:crypto'
import { InvalidArgumentError } from './errors.js'
import { KinesisLimits, MAX_HASH_KEY } from './limits.js'

/**
 * The hash key Kinesis derives from a partition key: the MD5 of its UTF-8 bytes read as an
 * unsigned 128-bit big-endian integer.
 */
export function hashKeyOf(partitionKey: string): bigint {
  return BigInt(`0x${hash('md5', partitionKey, 'hex')}`)
}

const DECIMAL = /^(0|[1-9][0-9]{0,38})$/

/**
 * Parses an explicit hash key (a decimal string in 0..2^128-1).
 * @throws InvalidArgumentError naming `field` when the string is not such a number.
 */
export function parseExplicitHashKey(value: unknown, field = 'explicitHashKey'): bigint {
  if (typeof value !== 'string' || !DECIMAL.test(value)) {
    throw new InvalidArgumentError(field, 'must be a decimal integer string in 0..2^128-1', value)
  }
  const key = BigInt(value)
  if (key > MAX_HASH_KEY) {
    throw new InvalidArgumentError(field, 'must be at most 2^128-1 (340282366920938463463374607431768211455)', value)
  }
  return key
}

/** Kinesis counts partition-key length in Unicode code points, not UTF-16 units. */
export function partitionKeyLength(partitionKey: string): number {
  let length = partitionKey.length
  for (let i = 0; i < partitionKey.length; i++) {
    const unit = partitionKey.charCodeAt(i)
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < partitionKey.length) {
      const next = partitionKey.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        length--
        i++
      }
    }
  }
  return length
}

/**
 * Checks a partition key against the Kinesis rules (a string of 1..256 Unicode characters).
 * @throws InvalidArgumentError naming `field`.
 */
export function validatePartitionKey(value: unknown, field = 'partitionKey'): asserts value is string {
  if (typeof value !== 'string') {
    throw new InvalidArgumentError(field, 'must be a string of 1 to 256 Unicode characters', value)
  }
  const length = partitionKeyLength(value)
  if (length < KinesisLimits.minPartitionKeyLength || length > KinesisLimits.maxPartitionKeyLength) {
    throw new InvalidArgumentError(
      field,
      `must be 1 to ${KinesisLimits.maxPartitionKeyLength} Unicode characters long, got ${length}`,
    )
  }
}

/** The decimal string form Kinesis uses for hash keys. */
export function formatHashKey(hashKey: bigint): string {
  return hashKey.toString(10)
}

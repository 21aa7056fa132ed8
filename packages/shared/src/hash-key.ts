import { hash } from 'node:crypto'
import { InvalidArgumentError } from './errors.js'
import { KinesisLimits, MAX_HASH_KEY } from './limits.js'
import { md5Into } from './md5.js'

/**
 * The hash key Kinesis derives from a partition key: the MD5 of its UTF-8 bytes read as an
 * unsigned 128-bit big-endian integer.
 */
export function hashKeyOf(partitionKey: string): bigint {
  return BigInt(`0x${hash('md5', partitionKey, 'hex')}`)
}

/**
 * A 128-bit hash key as three exact JS numbers, so that routing compares numbers instead of BigInts:
 * the 48-bit prefix decides almost every comparison, and the other two only break its ties.
 */
export interface HashKeyParts {
  /** Bits 127..80. */
  readonly high: number
  /** Bits 79..40. */
  readonly middle: number
  /** Bits 39..0. */
  readonly low: number
}

/** A partition key's hash key in parts, and the key's UTF-8 length (which hashing measures anyway). */
export interface PartitionKeyHash extends HashKeyParts {
  readonly byteLength: number
}

const digest = new Uint32Array(4)
const TWO_POW_16 = 0x10000
const TWO_POW_24 = 0x1000000
const TWO_POW_32 = 0x100000000
const MASK_40 = (1n << 40n) - 1n

/** hashKeyOf in parts, without BigInt or node:crypto (see md5.ts). */
export function partitionKeyHashOf(partitionKey: string): PartitionKeyHash {
  const byteLength = md5Into(partitionKey, digest)
  const w0 = digest[0]!
  const w1 = digest[1]!
  const w2 = digest[2]!
  const w3 = digest[3]!
  return {
    high: w0 * TWO_POW_16 + (w1 >>> 16),
    middle: (w1 & 0xffff) * TWO_POW_24 + (w2 >>> 8),
    low: (w2 & 0xff) * TWO_POW_32 + w3,
    byteLength,
  }
}

/** Splits a hash key (0..2^128-1) into parts. */
export function hashKeyParts(hashKey: bigint): HashKeyParts {
  return {
    high: Number(hashKey >> 80n),
    middle: Number((hashKey >> 40n) & MASK_40),
    low: Number(hashKey & MASK_40),
  }
}

/** The hash key that `parts` spell. */
export function hashKeyFromParts(parts: HashKeyParts): bigint {
  return (BigInt(parts.high) << 80n) | (BigInt(parts.middle) << 40n) | BigInt(parts.low)
}

/** Negative, zero or positive as `a` is below, equal to or above `b`. */
export function compareHashKeyParts(a: HashKeyParts, b: HashKeyParts): number {
  return a.high - b.high || a.middle - b.middle || a.low - b.low
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

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { InvalidArgumentError } from './errors.js'
import {
  compareHashKeyParts,
  hashKeyFromParts,
  hashKeyOf,
  hashKeyParts,
  parseExplicitHashKey,
  partitionKeyHashOf,
  partitionKeyLength,
  validatePartitionKey,
} from './hash-key.js'
import { MAX_HASH_KEY } from './limits.js'
import { loadHashKeyVectors } from './test-support/vectors.js'

describe('hashKeyOf', () => {
  it.each(loadHashKeyVectors().map((v) => [v.partitionKey.slice(0, 30), v] as const))(
    'matches hashlib for %s',
    (_label, vector) => {
      expect(hashKeyOf(vector.partitionKey)).toBe(BigInt(vector.hashKey))
    },
  )

  it('always lies in 0..2^128-1', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 256 }), (key) => {
        const hash = hashKeyOf(key)
        expect(hash >= 0n && hash <= MAX_HASH_KEY).toBe(true)
      }),
    )
  })
})

describe('parseExplicitHashKey', () => {
  it('accepts the boundaries', () => {
    expect(parseExplicitHashKey('0')).toBe(0n)
    expect(parseExplicitHashKey(MAX_HASH_KEY.toString())).toBe(MAX_HASH_KEY)
  })

  it.each([
    ['too large', (MAX_HASH_KEY + 1n).toString()],
    ['negative', '-1'],
    ['leading zero', '01'],
    ['hex', '0x10'],
    ['empty', ''],
    ['spaces', ' 1'],
    ['fraction', '1.5'],
    ['40 digits', '1'.repeat(40)],
  ])('rejects %s with a typed error naming the field', (_label, value) => {
    const error = (() => {
      try {
        parseExplicitHashKey(value, 'records[3].explicitHashKey')
      } catch (e) {
        return e
      }
    })()
    expect(error).toBeInstanceOf(InvalidArgumentError)
    expect(error).toMatchObject({ code: 'ERR_INVALID_ARGUMENT', field: 'records[3].explicitHashKey' })
    expect((error as Error).message).toContain('2^128-1')
  })

  it('rejects non-strings', () => {
    expect(() => parseExplicitHashKey(5)).toThrow(InvalidArgumentError)
  })
})

describe('validatePartitionKey', () => {
  it('counts Unicode characters, not UTF-16 units', () => {
    expect(partitionKeyLength('🔑'.repeat(256))).toBe(256)
    expect(() => validatePartitionKey('🔑'.repeat(256))).not.toThrow()
    expect(() => validatePartitionKey('🔑'.repeat(257))).toThrow(/1 to 256 Unicode characters long, got 257/)
  })

  it.each([
    ['empty', ''],
    ['257 characters', 'x'.repeat(257)],
    ['a number', 12],
    ['undefined', undefined],
  ])('rejects %s', (_label, value) => {
    expect(() => validatePartitionKey(value)).toThrow(InvalidArgumentError)
    try {
      validatePartitionKey(value)
    } catch (e) {
      expect(e).toMatchObject({ field: 'partitionKey', code: 'ERR_INVALID_ARGUMENT' })
    }
  })
})

describe('hash keys in parts', () => {
  it.each(loadHashKeyVectors().map((v) => [v.partitionKey.slice(0, 30), v] as const))(
    'partitionKeyHashOf spells the hashlib hash key for %s',
    (_label, vector) => {
      const hash = partitionKeyHashOf(vector.partitionKey)
      expect(hashKeyFromParts(hash)).toBe(BigInt(vector.hashKey))
      expect(hash.byteLength).toBe(Buffer.byteLength(vector.partitionKey, 'utf8'))
    },
  )

  it('splits into 48, 40 and 40 bits, exactly', () => {
    expect(hashKeyParts(MAX_HASH_KEY)).toEqual({ high: 2 ** 48 - 1, middle: 2 ** 40 - 1, low: 2 ** 40 - 1 })
    expect(hashKeyParts(1n << 80n)).toEqual({ high: 1, middle: 0, low: 0 })
    expect(hashKeyParts((1n << 80n) - 1n)).toEqual({ high: 0, middle: 2 ** 40 - 1, low: 2 ** 40 - 1 })
    expect(hashKeyParts(0n)).toEqual({ high: 0, middle: 0, low: 0 })
  })

  it('round-trips and orders as the BigInts do', () => {
    const key = fc.bigInt({ min: 0n, max: MAX_HASH_KEY })
    fc.assert(
      fc.property(key, key, (a, b) => {
        expect(hashKeyFromParts(hashKeyParts(a))).toBe(a)
        expect(Math.sign(compareHashKeyParts(hashKeyParts(a), hashKeyParts(b)))).toBe(a < b ? -1 : a > b ? 1 : 0)
      }),
    )
  })

  it('matches hashKeyOf for any partition key', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ minLength: 1, maxLength: 256 }), fc.fullUnicodeString({ minLength: 1 })),
        (key) => {
          expect(hashKeyFromParts(partitionKeyHashOf(key))).toBe(hashKeyOf(key))
        },
      ),
    )
  })
})

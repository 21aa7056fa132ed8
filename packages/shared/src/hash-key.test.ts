import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { InvalidArgumentError } from './errors.js'
import { HashKeyCache } from './hash-key-cache.js'
import { hashKeyOf, parseExplicitHashKey, partitionKeyLength, validatePartitionKey } from './hash-key.js'
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

describe('HashKeyCache', () => {
  it('returns the same hash keys as hashKeyOf and stays within two generations', () => {
    const cache = new HashKeyCache(3)
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 10; i++) expect(cache.get(`k${i}`)).toBe(hashKeyOf(`k${i}`))
    }
    expect(cache.size).toBeLessThanOrEqual(6)
  })
})

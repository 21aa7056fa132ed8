import { hash } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { md5Into } from './md5.js'

function md5Hex(text: string): string {
  const digest = new Uint32Array(4)
  md5Into(text, digest)
  return Array.from(digest, (word) => word.toString(16).padStart(8, '0')).join('')
}

describe('md5Into', () => {
  it.each([
    ['the empty string', ''],
    ['one byte', 'a'],
    ['55 bytes, the most one block holds', 'x'.repeat(55)],
    ['56 bytes, which needs a second block for the length', 'x'.repeat(56)],
    ['64 bytes', 'x'.repeat(64)],
    ['256 four-byte characters (the longest partition key)', '🔑'.repeat(256)],
    ['a lone surrogate, hashed as U+FFFD', 'a\ud800b'],
    ['a key longer than the scratch buffer', 'é'.repeat(2_000)],
  ])('matches node:crypto for %s', (_label, text) => {
    expect(md5Hex(text)).toBe(hash('md5', text, 'hex'))
  })

  it('matches RFC 1321 test vectors', () => {
    expect(md5Hex('abc')).toBe('900150983cd24fb0d6963f7d28e17f72')
    expect(md5Hex('message digest')).toBe('f96b697d7cb7938d525a2f31aaf161d0')
  })

  it('returns the UTF-8 length', () => {
    const digest = new Uint32Array(4)
    expect(md5Into('abc', digest)).toBe(3)
    expect(md5Into('é🔑\ud800', digest)).toBe(2 + 4 + 3)
  })

  it('matches node:crypto for any string, including lone surrogates', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 300 }), fc.fullUnicodeString(), fc.string16bits()), (text) => {
        expect(md5Hex(text)).toBe(hash('md5', text, 'hex'))
        expect(md5Into(text, new Uint32Array(4))).toBe(Buffer.byteLength(text, 'utf8'))
      }),
      { numRuns: 2_000 },
    )
  })
})

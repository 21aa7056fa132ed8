import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { copyBytes, utf8Length, writeUtf8 } from './utf8.js'

describe('utf8 helpers', () => {
  it('count and write exactly what Buffer does, for any string (lone surrogates included)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 80 }), fc.string({ maxLength: 80 })), (value) => {
        const expected = Buffer.from(value, 'utf8')
        expect(utf8Length(value)).toBe(expected.length)
        const out = Buffer.alloc(expected.length + 2)
        expect(writeUtf8(out, 1, value, expected.length)).toBe(expected.length + 1)
        expect(out.subarray(1, expected.length + 1).equals(expected)).toBe(true)
      }),
      { numRuns: 1000 },
    )
  })

  it('copies small and large byte arrays', () => {
    for (const length of [0, 1, 32, 33, 1000]) {
      const data = Uint8Array.from({ length }, (_, i) => i & 0xff)
      const out = Buffer.alloc(length + 1)
      expect(copyBytes(out, 1, data)).toBe(length + 1)
      expect(out.subarray(1).equals(Buffer.from(data))).toBe(true)
    }
  })
})

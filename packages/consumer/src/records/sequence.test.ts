import { describe, expect, it } from 'vitest'
import { compareExtended, isSequenceNumber, isShardEnd } from './sequence.js'

const at = (sequenceNumber: string, subSequenceNumber = 0) => ({ sequenceNumber, subSequenceNumber })

describe('compareExtended', () => {
  it('orders sequence numbers as 128-bit integers, not strings', () => {
    const small = at('9')
    const big = at('49590338271490256608559692538361571095921575989136588802')
    expect(compareExtended(small, big)).toBeLessThan(0)
    expect(compareExtended(big, small)).toBeGreaterThan(0)
    expect(compareExtended(at('100'), at('99'))).toBeGreaterThan(0)
  })

  it('breaks ties on the sub-sequence number', () => {
    expect(compareExtended(at('5', 2), at('5', 3))).toBeLessThan(0)
    expect(compareExtended(at('5', 3), at('5', 3))).toBe(0)
    expect(compareExtended(at('6', 0), at('5', 9))).toBeGreaterThan(0)
  })

  it('puts starting sentinels before every record and SHARD_END after', () => {
    for (const start of ['TRIM_HORIZON', 'LATEST', 'AT_TIMESTAMP']) {
      expect(compareExtended(at(start), at('1'))).toBeLessThan(0)
    }
    expect(compareExtended(at('SHARD_END'), at('999999999999999999999999'))).toBeGreaterThan(0)
    expect(compareExtended(at('SHARD_END'), at('SHARD_END'))).toBe(0)
    expect(isShardEnd(at('SHARD_END'))).toBe(true)
  })

  it('accepts only decimal sequence numbers', () => {
    expect(isSequenceNumber('49590338271490256608559692538361571095921575989136588802')).toBe(true)
    expect(isSequenceNumber('12a')).toBe(false)
    expect(isSequenceNumber('')).toBe(false)
    expect(isSequenceNumber(12)).toBe(false)
  })
})

import { describe, expect, it } from 'vitest'
import type { KinesisClientRecord } from '../types.js'
import { fingerprint32 } from './fingerprint.js'
import { lanesOf } from './lanes.js'

/**
 * Fingerprint32 of each key as the `farmhash` native addon (5.0.1, Google's C++ FarmHash) computed it
 * before the switch to WebAssembly: a key's lane is this modulo the lane count, so these must not move.
 * Keys cover every length class of the algorithm (0-4, 5-12, 13-24, over 24 bytes), and short
 * non-ASCII keys, where the Rust port alone would differ.
 */
const ADDON_FINGERPRINTS: ReadonlyArray<readonly [string, number]> = [
  ['', 3696677242],
  ['a', 1016544589],
  ['ab', 1098068221],
  ['abc', 795041479],
  ['abcd', 2562006677],
  ['\u00e9', 1973972843],
  ['\u00f1u', 285092681],
  ['\u20ac', 848185013],
  ['\u{1F600}', 1664697074],
  ['\ud800', 4143110158],
  ['\u00ff\u00ff', 3752063896],
  ['\u0080', 3803043937],
  ['abcde', 2750637740],
  ['order-1', 1545644054],
  ['customer-42', 303730729],
  ['0', 3594265378],
  ['7', 2762651575],
  ['12345', 2946287185],
  ['1234567890', 1681841760],
  ['hello world!', 1030428963],
  ['partition-key-13', 1433808364],
  ['user-000000000000000001', 1012725857],
  ['3f0f5c3e-5a3b-4c1e-9f1a-2b7c8d9e0f10', 841920393],
  ['\u00dcn\u00efc\u00f6d\u00e9 partition k\u00e9y', 2669941392],
  ['\u5206\u533a\u952e', 3704988380],
  ['\u5206\u533a\u952e'.repeat(3), 2658843055],
  ['\u{1F600}'.repeat(7), 2147843977],
  ['a'.repeat(24), 262223204],
  ['a'.repeat(25), 246026102],
  ['x'.repeat(100), 133597080],
  ['k'.repeat(256), 156308407],
  ['The quick brown fox jumps over the lazy dog', 3969483552],
]

function recordsOf(keys: readonly string[]): KinesisClientRecord[] {
  return keys.map((partitionKey, i) => ({
    data: new Uint8Array(0),
    partitionKey,
    sequenceNumber: String(i),
    subSequenceNumber: 0,
    approximateArrivalTimestamp: new Date(0),
    aggregated: false,
    headers: {},
  }))
}

describe('fingerprint32', () => {
  it.each(ADDON_FINGERPRINTS)('matches the native farmhash addon on %j', (key, expected) => {
    expect(fingerprint32(key)).toBe(expected)
  })
})

describe('lanesOf', () => {
  const keys = ADDON_FINGERPRINTS.map(([key]) => key)

  it.each([2, 3, 8])('puts each key in the lane the native addon gave it, over %i lanes', (lanes) => {
    const expected = ADDON_FINGERPRINTS.map(([, fingerprint]) => fingerprint % lanes)
    expect(lanesOf(recordsOf(keys), lanes)).toEqual(expected)
  })

  it('gives one key one lane wherever it appears in the batch', () => {
    const lanes = lanesOf(recordsOf(['order-1', 'abc', 'order-1', '\u00e9', 'abc', '\u00e9']), 8)
    // The fingerprints above modulo 8: order-1 -> 6, abc -> 7, \u00e9 -> 3.
    expect(lanes).toEqual([6, 7, 6, 3, 7, 3])
  })

  it('puts everything in lane 0 when there is one lane', () => {
    expect(lanesOf(recordsOf(keys), 1)).toEqual(keys.map(() => 0))
  })
})

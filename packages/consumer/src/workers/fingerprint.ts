import { fingerprint32 as farmhashFingerprint32 } from 'farmhash-modern'

const C1 = 0xcc9e2d51
const C2 = 0x1b873593
const encoder = new TextEncoder()

/**
 * FarmHash Fingerprint32 of a string's UTF-8 bytes, exactly as Google's C++ FarmHash computes it
 * (which the `farmhash` native addon wrapped), so every partition key keeps the lane it had.
 *
 * farmhash-modern (the Rust crate, in WebAssembly: no native addon) agrees with the C++ except for
 * inputs of 1 to 4 bytes holding a byte of 0x80 or more: the C++ reads those bytes as `signed char`,
 * the Rust as unsigned. Those short inputs are hashed here, with the C++ arithmetic.
 */
export function fingerprint32(key: string): number {
  // Four bytes of UTF-8 are at most four UTF-16 code units, so only such short strings need encoding.
  if (key.length > 4) return farmhashFingerprint32(key)
  const bytes = encoder.encode(key)
  return bytes.length <= 4 ? fingerprint32Len0to4(bytes) : farmhashFingerprint32(bytes)
}

/** FarmHash's Hash32Len0to4 with seed 0 (farmhashmk), bytes taken as signed. */
function fingerprint32Len0to4(bytes: Uint8Array): number {
  let b = 0
  let c = 9
  for (const byte of bytes) {
    const signed = (byte << 24) >> 24
    b = (Math.imul(b, C1) + signed) | 0
    c ^= b
  }
  return fmix(mur(b, mur(bytes.length, c)))
}

function rotate32(value: number, shift: number): number {
  return (value >>> shift) | (value << (32 - shift))
}

/** Murmur3's step for combining two 32-bit values. */
function mur(a: number, h: number): number {
  let x = Math.imul(a, C1)
  x = rotate32(x, 17)
  x = Math.imul(x, C2)
  let y = h ^ x
  y = rotate32(y, 19)
  return (Math.imul(y, 5) + 0xe6546b64) | 0
}

/** Murmur3's finalizer. */
function fmix(value: number): number {
  let h = value
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/**
 * MD5 of a string's UTF-8 bytes (RFC 1321), in JavaScript. Kinesis derives hash keys from the MD5 of
 * partition keys, which are short: one or a few 64-byte blocks. For them this is about twice as fast
 * as node:crypto's `hash()`, whose fixed cost (a native call, then a hex string or Buffer to read the
 * digest from) outweighs the few hundred rounds, and it allocates nothing.
 */

const ROUND_CONSTANTS = Int32Array.from({ length: 64 }, (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32))
const SHIFTS = Uint8Array.from([
  7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 4,
  11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
])
/** Which message word each round reads. */
const WORD_INDEX = Uint8Array.from({ length: 64 }, (_, i) =>
  i < 16 ? i : i < 32 ? (5 * i + 1) & 15 : i < 48 ? (3 * i + 5) & 15 : (7 * i) & 15,
)
/** Padding needs a 0x80 byte and the 8-byte length after the message. */
const PADDING_BYTES = 9
/**
 * Room for any partition key Kinesis accepts, as md5Into bounds it: 256 code points are at most 512
 * UTF-16 units, each at most 3 UTF-8 bytes, plus padding.
 */
const SCRATCH_BYTES = 512 * 3 + PADDING_BYTES + 64

const encoder = new TextEncoder()
const scratch = new Uint8Array(SCRATCH_BYTES)
const block = new Int32Array(16)

/**
 * Writes the MD5 digest of `text` (UTF-8, lone surrogates as U+FFFD, as node:crypto encodes strings)
 * into `digest` as four big-endian 32-bit words: `digest[0]` holds the digest's first four bytes, so
 * the words read in order are the digest as one unsigned 128-bit big-endian number.
 * @returns the UTF-8 length of `text` in bytes.
 */
export function md5Into(text: string, digest: Uint32Array): number {
  // Worst case 3 UTF-8 bytes per UTF-16 unit; only keys longer than Kinesis allows can need more room.
  const worstCase = text.length * 3 + PADDING_BYTES + 64
  const bytes = worstCase <= scratch.length ? scratch : new Uint8Array(worstCase)
  const length = writeUtf8(text, bytes)
  const end = (((length + 8) >>> 6) + 1) << 6
  bytes[length] = 0x80
  // Loops, not fill(): for the few bytes of a short key the native call costs more than the writes.
  for (let i = length + 1; i < end - 8; i++) bytes[i] = 0
  // Length in bits as a little-endian 64-bit number: the low 32 bits, then the (in practice zero) rest.
  const bits = (length * 8) >>> 0
  const bitsHigh = Math.floor(length / 0x20000000)
  bytes[end - 8] = bits & 0xff
  bytes[end - 7] = (bits >>> 8) & 0xff
  bytes[end - 6] = (bits >>> 16) & 0xff
  bytes[end - 5] = (bits >>> 24) & 0xff
  bytes[end - 4] = bitsHigh & 0xff
  bytes[end - 3] = (bitsHigh >>> 8) & 0xff
  bytes[end - 2] = (bitsHigh >>> 16) & 0xff
  bytes[end - 1] = (bitsHigh >>> 24) & 0xff

  let a0 = 0x67452301
  let b0 = 0xefcdab89 | 0
  let c0 = 0x98badcfe | 0
  let d0 = 0x10325476
  for (let offset = 0; offset < end; offset += 64) {
    for (let j = 0; j < 16; j++) {
      const p = offset + j * 4
      block[j] = bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16) | (bytes[p + 3]! << 24)
    }
    let a = a0
    let b = b0
    let c = c0
    let d = d0
    // Four loops of 16 rounds rather than one with a branch per round: each stays monomorphic.
    for (let i = 0; i < 16; i++) {
      const f = (((b & c) | (~b & d)) + a + ROUND_CONSTANTS[i]! + block[i]!) | 0
      a = d
      d = c
      c = b
      b = (b + rotateLeft(f, SHIFTS[i]!)) | 0
    }
    for (let i = 16; i < 32; i++) {
      const f = (((d & b) | (~d & c)) + a + ROUND_CONSTANTS[i]! + block[WORD_INDEX[i]!]!) | 0
      a = d
      d = c
      c = b
      b = (b + rotateLeft(f, SHIFTS[i]!)) | 0
    }
    for (let i = 32; i < 48; i++) {
      const f = ((b ^ c ^ d) + a + ROUND_CONSTANTS[i]! + block[WORD_INDEX[i]!]!) | 0
      a = d
      d = c
      c = b
      b = (b + rotateLeft(f, SHIFTS[i]!)) | 0
    }
    for (let i = 48; i < 64; i++) {
      const f = ((c ^ (b | ~d)) + a + ROUND_CONSTANTS[i]! + block[WORD_INDEX[i]!]!) | 0
      a = d
      d = c
      c = b
      b = (b + rotateLeft(f, SHIFTS[i]!)) | 0
    }
    a0 = (a0 + a) | 0
    b0 = (b0 + b) | 0
    c0 = (c0 + c) | 0
    d0 = (d0 + d) | 0
  }
  // The state words are little-endian in the digest; the caller reads the digest big-endian.
  digest[0] = byteSwap(a0)
  digest[1] = byteSwap(b0)
  digest[2] = byteSwap(c0)
  digest[3] = byteSwap(d0)
  return length
}

function rotateLeft(value: number, shift: number): number {
  return (value << shift) | (value >>> (32 - shift))
}

function byteSwap(word: number): number {
  return ((word & 0xff) << 24) | ((word & 0xff00) << 8) | ((word >>> 8) & 0xff00) | (word >>> 24)
}

/** ASCII byte by byte (most keys); anything else through TextEncoder, which replaces lone surrogates. */
function writeUtf8(text: string, out: Uint8Array): number {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i)
    if (unit >= 0x80) return encoder.encodeInto(text, out).written
    out[i] = unit
  }
  return text.length
}

/**
 * UTF-8 helpers for short strings (partition keys are at most 256 characters). Below a few dozen
 * characters a JavaScript loop beats a call into Buffer's C++ code, and the aggregator does this
 * for every new key of every aggregate.
 */
const SHORT = 64

/** UTF-8 byte length, as Buffer.byteLength counts it (a lone surrogate takes 3 bytes). */
export function utf8Length(value: string): number {
  if (value.length > SHORT) return Buffer.byteLength(value, 'utf8')
  let bytes = 0
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i)
    if (unit < 0x80) bytes += 1
    else if (unit < 0x800) bytes += 2
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < value.length) {
      const next = value.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4
        i++
      } else bytes += 3
    } else bytes += 3
  }
  return bytes
}

/** Writes `value` (whose UTF-8 length is `byteLength`) at `offset`; returns the offset after it. */
export function writeUtf8(out: Buffer, offset: number, value: string, byteLength: number): number {
  if (byteLength === value.length && byteLength <= SHORT) {
    // Pure ASCII: one byte per character.
    for (let i = 0; i < byteLength; i++) out[offset + i] = value.charCodeAt(i)
    return offset + byteLength
  }
  return offset + out.write(value, offset, byteLength, 'utf8')
}

/** Copies bytes; small copies in a loop (TypedArray#set has a fixed cost that dominates them). */
export function copyBytes(out: Buffer, offset: number, data: Uint8Array): number {
  const length = data.length
  if (length <= 32) {
    for (let i = 0; i < length; i++) out[offset + i] = data[i]!
  } else {
    out.set(data, offset)
  }
  return offset + length
}

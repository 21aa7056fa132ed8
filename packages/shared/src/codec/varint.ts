/** Bytes a non-negative integer (< 2^53) takes as a protobuf varint. */
export function varintLength(value: number): number {
  if (value < 0x80) return 1
  if (value < 0x4000) return 2
  if (value < 0x200000) return 3
  if (value < 0x10000000) return 4
  let length = 4
  let rest = Math.floor(value / 0x10000000)
  while (rest > 0) {
    length++
    rest = Math.floor(rest / 0x80)
  }
  return length
}

/** Writes a varint at `offset` and returns the offset after it. */
export function writeVarint(target: Uint8Array, offset: number, value: number): number {
  let at = offset
  let rest = value
  while (rest >= 0x80) {
    target[at++] = (rest & 0x7f) | 0x80
    rest = rest < 0x100000000 ? rest >>> 7 : Math.floor(rest / 0x80)
  }
  target[at++] = rest
  return at
}

/** Bytes a length-delimited field of `length` payload bytes takes, tag included. */
export function delimitedFieldLength(length: number): number {
  return 1 + varintLength(length) + length
}

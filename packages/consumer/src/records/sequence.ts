import type { ExtendedSequenceNumber } from '../types.js'

/** The checkpoint sentinels of the Java KCL, stored as these exact strings with sub-sequence 0. */
export const SENTINELS = Object.freeze({
  TRIM_HORIZON: 'TRIM_HORIZON',
  LATEST: 'LATEST',
  AT_TIMESTAMP: 'AT_TIMESTAMP',
  SHARD_END: 'SHARD_END',
})

export const SHARD_END: ExtendedSequenceNumber = Object.freeze({ sequenceNumber: 'SHARD_END', subSequenceNumber: 0 })

const DIGITS = /^\d{1,128}$/

export function isSentinel(sequenceNumber: string): boolean {
  return sequenceNumber in SENTINELS
}

export function isSequenceNumber(value: unknown): value is string {
  return typeof value === 'string' && DIGITS.test(value)
}

export function isShardEnd(position: ExtendedSequenceNumber | undefined): boolean {
  return position?.sequenceNumber === SENTINELS.SHARD_END
}

/** Where a sentinel sorts: the starting positions before every record, SHARD_END after all. */
function rank(sequenceNumber: string): bigint | undefined {
  if (sequenceNumber === SENTINELS.SHARD_END) return undefined
  if (isSentinel(sequenceNumber)) return -1n
  return BigInt(sequenceNumber)
}

/** Orders extended sequence numbers: by sequence number (as a 128-bit integer), then sub-sequence. */
export function compareExtended(a: ExtendedSequenceNumber, b: ExtendedSequenceNumber): number {
  const ra = rank(a.sequenceNumber)
  const rb = rank(b.sequenceNumber)
  if (ra === undefined || rb === undefined) return ra === rb ? 0 : ra === undefined ? 1 : -1
  if (ra !== rb) return ra < rb ? -1 : 1
  return a.subSequenceNumber - b.subSequenceNumber
}

export function formatExtended(position: ExtendedSequenceNumber): string {
  return `${position.sequenceNumber}/${position.subSequenceNumber}`
}

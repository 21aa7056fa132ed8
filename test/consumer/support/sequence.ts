/** Orders a delivered record against a checkpoint (sequence number, then sub-sequence). */
export function compareSequence(
  record: { sequenceNumber: string; subSequenceNumber: number },
  checkpoint: { sequenceNumber: string; subSequenceNumber: number },
): number {
  if (!/^\d+$/.test(checkpoint.sequenceNumber)) return 1
  const a = BigInt(record.sequenceNumber)
  const b = BigInt(checkpoint.sequenceNumber)
  if (a !== b) return a < b ? -1 : 1
  return record.subSequenceNumber - checkpoint.subSequenceNumber
}

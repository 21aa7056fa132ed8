/**
 * The records every contender offers, and how the endpoint reads them back. Record `id` (0..total-1) is
 * offered in id order, so within a partition key ids only grow: the id written into the data is the
 * per-key sequence number the endpoint checks order with.
 */

/** Bytes 0-3: the id; bytes 4-7: the id xor this mark, so stray or corrupted bytes are not read as a record. */
const MARK = 0x5eed_5eed
export const RECORD_HEADER_BYTES = 8

export interface WorkloadShape {
  readonly total: number
  /** Size of each record's data. */
  readonly bytes: number
  /** Partition keys cycled through; 0: every record has a key of its own. */
  readonly keys: number
}

export class Workload {
  readonly shape: WorkloadShape
  readonly #hotKeys: readonly string[]

  constructor(shape: WorkloadShape) {
    if (shape.bytes < RECORD_HEADER_BYTES) throw new RangeError(`records need at least ${RECORD_HEADER_BYTES} bytes`)
    this.shape = shape
    this.#hotKeys = Array.from({ length: shape.keys }, (_, k) => `key-${k}`)
  }

  keyOf(id: number): string {
    return this.shape.keys > 0 ? this.#hotKeys[id % this.shape.keys]! : `key-${id}`
  }

  /** A fresh buffer per record, as a user's records arrive: nobody may rely on a buffer being reused. */
  dataOf(id: number): Buffer {
    const data = Buffer.allocUnsafe(this.shape.bytes)
    data.writeUInt32BE(id, 0)
    data.writeUInt32BE((id ^ MARK) >>> 0, 4)
    data.fill(7, RECORD_HEADER_BYTES)
    return data
  }
}

/** The id written by `Workload.dataOf`, or undefined for bytes it did not write. */
export function readRecordId(data: Uint8Array): number | undefined {
  if (data.length < RECORD_HEADER_BYTES) return undefined
  const view = new DataView(data.buffer, data.byteOffset, RECORD_HEADER_BYTES)
  const id = view.getUint32(0)
  return (id ^ MARK) >>> 0 === view.getUint32(4) ? id : undefined
}

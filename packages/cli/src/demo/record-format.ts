/**
 * The demo's user records: a record id and the time it was offered to the producer, then filler
 * up to the chosen size. The id alone names the key and the record's place in that key's order:
 * key = id mod keys, position = floor(id / keys), so the verifier needs no lookup table.
 */
const HEADER_BYTES = 12

export interface DemoRecord {
  readonly id: number
  readonly sentAtMs: number
}

export function encodeDemoRecord(id: number, sentAtMs: number, size: number): Uint8Array {
  const bytes = new Uint8Array(Math.max(size, HEADER_BYTES))
  const view = new DataView(bytes.buffer)
  view.setUint32(0, id)
  view.setFloat64(4, sentAtMs)
  for (let i = HEADER_BYTES; i < bytes.length; i++) bytes[i] = (id + i) & 0xff
  return bytes
}

/** Undefined for data that is not a demo record (someone else wrote to the stream). */
export function decodeDemoRecord(data: Uint8Array): DemoRecord | undefined {
  if (data.length < HEADER_BYTES) return undefined
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  return { id: view.getUint32(0), sentAtMs: view.getFloat64(4) }
}

export const partitionKeyOf = (id: number, keys: number) => `demo-key-${id % keys}`

/** With `--poison`: one record every processor throws on, to show it dead-lettered. */
export const POISON_RECORD = Object.freeze({
  partitionKey: 'demo-poison',
  data: new TextEncoder().encode('kinesis-ts demo: a poison record'),
})

export function isPoisonRecord(data: Uint8Array): boolean {
  const poison = POISON_RECORD.data
  return data.length === poison.length && data.every((byte, i) => byte === poison[i])
}

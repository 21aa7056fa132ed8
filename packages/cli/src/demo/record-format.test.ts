import { describe, expect, it } from 'vitest'
import { decodeDemoRecord, encodeDemoRecord, partitionKeyOf } from './record-format.js'

describe('demo record format', () => {
  it('round-trips id and send time at the requested size', () => {
    const data = encodeDemoRecord(123_456, 1_700_000_000_123.5, 100)
    expect(data.length).toBe(100)
    expect(decodeDemoRecord(data)).toEqual({ id: 123_456, sentAtMs: 1_700_000_000_123.5 })
  })

  it('reads a record that is a view into a larger buffer', () => {
    const data = encodeDemoRecord(7, 42, 20)
    const container = new Uint8Array(64)
    container.set(data, 30)
    expect(decodeDemoRecord(container.subarray(30, 50))).toEqual({ id: 7, sentAtMs: 42 })
  })

  it('rejects data too short to be a demo record', () => {
    expect(decodeDemoRecord(new Uint8Array(5))).toBeUndefined()
  })

  it('maps ids to keys round-robin', () => {
    expect([0, 1, 2, 3].map((id) => partitionKeyOf(id, 3))).toEqual([
      'demo-key-0',
      'demo-key-1',
      'demo-key-2',
      'demo-key-0',
    ])
  })
})

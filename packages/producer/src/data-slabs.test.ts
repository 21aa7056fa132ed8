import { describe, expect, it } from 'vitest'
import { DataSlabs, copyRange } from './data-slabs.js'

const bytesAt = (slabs: DataSlabs, offset: number, length: number) =>
  Buffer.from(slabs.buffer.subarray(offset, offset + length)).toString()

describe('DataSlabs', () => {
  it('keeps each copy intact when the caller refills its buffer, and packs small copies into one slab', () => {
    const slabs = new DataSlabs()
    const reused = Buffer.from('first-record')
    const first = slabs.copy(reused, reused.length)
    const firstSlab = slabs.buffer
    reused.write('second-recrd')
    const second = slabs.copy(reused, reused.length)
    expect(slabs.buffer).toBe(firstSlab)
    expect(second).toBe(first + reused.length)
    expect(bytesAt(slabs, first, 12)).toBe('first-record')
    expect(bytesAt(slabs, second, 12)).toBe('second-recrd')
  })

  it('copies a string as UTF-8, and starts a new slab when the current one has no room', () => {
    const slabs = new DataSlabs()
    const text = 'é'.repeat(1000) // 2000 bytes
    const offsets: number[] = []
    const buffers: Buffer[] = []
    for (let i = 0; i < 20; i++) {
      offsets.push(slabs.copy(text, Buffer.byteLength(text)))
      buffers.push(slabs.buffer)
    }
    expect(new Set(buffers).size).toBeGreaterThan(1)
    for (let i = 0; i < 20; i++) {
      expect(Buffer.from(buffers[i]!.subarray(offsets[i]!, offsets[i]! + 2000)).toString()).toBe(text)
    }
  })

  it('gives large data a buffer of its own', () => {
    const slabs = new DataSlabs()
    const large = Buffer.alloc(64 * 1024, 1)
    expect(slabs.copy(large, large.length)).toBe(0)
    expect(slabs.buffer).not.toBe(large)
    expect(slabs.buffer.length).toBe(large.length)
    large.fill(2)
    expect(slabs.buffer.every((byte) => byte === 1)).toBe(true)
  })
})

describe('copyRange', () => {
  it('copies exactly the range asked for, by loop (≤ 32 bytes) and natively (longer), whole or in part', () => {
    const source = Uint8Array.from({ length: 300 }, (_, i) => i % 251)
    for (const [from, length] of [
      [0, 0],
      [5, 1],
      [7, 32],
      [9, 33],
      [40, 200],
      [0, 300],
    ] as const) {
      const out = new Uint8Array(length + 6).fill(0xee)
      expect(copyRange(out, 3, source, from, length)).toBe(3 + length)
      expect([...out.subarray(3, 3 + length)]).toEqual([...source.subarray(from, from + length)])
      // Nothing around the range is touched.
      expect([...out.subarray(0, 3), ...out.subarray(3 + length)]).toEqual([0xee, 0xee, 0xee, 0xee, 0xee, 0xee])
    }
  })
})

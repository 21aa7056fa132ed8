import { describe, expect, it } from 'vitest'
import { DataSlabs } from './data-slabs.js'

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

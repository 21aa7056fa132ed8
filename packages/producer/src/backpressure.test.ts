import { describe, expect, it } from 'vitest'
import { Admission } from './backpressure.js'
import { FlushTracker } from './flush-tracker.js'

describe('Admission', () => {
  it('admits up to the record and byte limits, then lets waiters in, in order, as room frees', () => {
    const order: number[] = []
    const admission = new Admission<{ bytes: number; id: number }>(2, 1000, (item) => order.push(item.id))
    expect(admission.tryAdmit(100)).toBe(true)
    expect(admission.tryAdmit(100)).toBe(true)
    expect(admission.tryAdmit(100)).toBe(false)
    admission.wait({ bytes: 100, id: 1 })
    admission.wait({ bytes: 100, id: 2 })
    expect(admission.waiting).toBe(2)
    admission.release(100)
    expect(order).toEqual([1])
    expect(admission.records).toBe(2)
    admission.release(100)
    expect(order).toEqual([1, 2])
    expect(admission.bytes).toBe(200)
    expect(admission.waiting).toBe(0)
  })

  it('keeps a later small waiter behind an earlier one that does not fit yet', () => {
    const order: number[] = []
    const admission = new Admission<{ bytes: number; id: number }>(10, 1000, (item) => order.push(item.id))
    expect(admission.tryAdmit(600)).toBe(true)
    admission.wait({ bytes: 600, id: 1 })
    expect(admission.tryAdmit(10)).toBe(false)
    admission.wait({ bytes: 10, id: 2 })
    admission.release(600)
    expect(order).toEqual([1, 2])
  })

  it('lets every waiter in on releaseAll', () => {
    const order: number[] = []
    const admission = new Admission<{ bytes: number; id: number }>(1, 1000, (item) => order.push(item.id))
    admission.tryAdmit(1)
    admission.wait({ bytes: 1, id: 1 })
    admission.wait({ bytes: 1, id: 2 })
    admission.releaseAll()
    expect(order).toEqual([1, 2])
    expect(admission.records).toBe(3)
  })

  it('lets a record larger than the byte limit in when nothing else is outstanding', () => {
    const admission = new Admission(10, 1000, () => {})
    expect(admission.tryAdmit(5000)).toBe(true)
    expect(admission.tryAdmit(1)).toBe(false)
  })
})

describe('FlushTracker', () => {
  it('resolves a flush when everything added before it settled, whatever is added after', async () => {
    const tracker = new FlushTracker()
    tracker.added(tracker.generation)
    tracker.added(tracker.generation)
    let flushed = false
    const flush = tracker.flush().then(() => {
      flushed = true
    })
    tracker.added(tracker.generation)
    tracker.settled(0)
    await Promise.resolve()
    expect(flushed).toBe(false)
    tracker.settled(0)
    await flush
    expect(flushed).toBe(true)
  })

  it('resolves at once when nothing is outstanding', async () => {
    await new FlushTracker().flush()
  })
})

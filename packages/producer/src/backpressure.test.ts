import { describe, expect, it } from 'vitest'
import { Admission } from './backpressure.js'
import { FlushTracker } from './flush-tracker.js'

describe('Admission', () => {
  it('admits up to the record and byte limits, then lets waiters in, in order, as room frees', async () => {
    const admission = new Admission(2, 1000)
    expect(admission.tryAdmit(100)).toBe(true)
    expect(admission.tryAdmit(100)).toBe(true)
    expect(admission.tryAdmit(100)).toBe(false)
    const order: number[] = []
    const first = admission.wait(100).then(() => order.push(1))
    const second = admission.wait(100).then(() => order.push(2))
    admission.release(100)
    await first
    expect(order).toEqual([1])
    expect(admission.records).toBe(2)
    admission.release(100)
    await second
    expect(order).toEqual([1, 2])
    expect(admission.bytes).toBe(200)
  })

  it('lets a record larger than the byte limit in when nothing else is outstanding', () => {
    const admission = new Admission(10, 1000)
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

import { describe, expect, it } from 'vitest'
import { type Lease, newLease } from './lease.js'
import {
  ScheduledTakes,
  type TimerFunctions,
  type WatchSlotInput,
  nextWatchSlot,
  watchTurns,
} from './watch-schedule.js'

const base: WatchSlotInput = {
  nowMillis: 0,
  fleetIntervalMillis: 1_000,
  maxWorkerIntervalMillis: 20_000,
  workers: ['a', 'b', 'c', 'd'],
  workerId: 'a',
  lastSlot: Number.NEGATIVE_INFINITY,
  eager: false,
}

/** Every slot each worker scans in over `slots` slots, following its own schedule from wall time 0. */
function scans(workers: readonly string[], slots: number, input: Partial<WatchSlotInput> = {}): Map<string, number[]> {
  const out = new Map<string, number[]>()
  for (const workerId of workers) {
    const mine: number[] = []
    let lastSlot = Number.NEGATIVE_INFINITY
    for (;;) {
      const next = nextWatchSlot({
        ...base,
        ...input,
        workers,
        workerId,
        lastSlot,
        nowMillis: Math.max(0, lastSlot) * 1_000,
      })
      if (next.slot >= slots) break
      mine.push(next.slot)
      lastSlot = next.slot
    }
    out.set(workerId, mine)
  }
  return out
}

describe('nextWatchSlot', () => {
  it('gives each of W workers every W-th slot, staggered by rank: exactly one scan per slot fleet-wide', () => {
    const result = scans(['d', 'b', 'a', 'c'], 12)
    expect(result.get('a')).toEqual([0, 4, 8])
    expect(result.get('b')).toEqual([1, 5, 9])
    expect(result.get('c')).toEqual([2, 6, 10])
    expect(result.get('d')).toEqual([3, 7, 11])
  })

  it('starts at the slot boundary, the current slot when it is ours and not scanned yet', () => {
    expect(nextWatchSlot({ ...base, nowMillis: 4_300 })).toEqual({ slot: 4, atMillis: 4_000 })
    expect(nextWatchSlot({ ...base, nowMillis: 4_300, lastSlot: 4 })).toEqual({ slot: 8, atMillis: 8_000 })
    expect(nextWatchSlot({ ...base, workerId: 'c', nowMillis: 4_300 })).toEqual({ slot: 6, atMillis: 6_000 })
  })

  it('counts this worker even when the scan did not see it own anything', () => {
    expect(watchTurns({ ...base, workers: ['b'], workerId: 'a' })).toBe(2)
    expect(nextWatchSlot({ ...base, workers: ['b'], nowMillis: 1_000 })).toEqual({ slot: 2, atMillis: 2_000 })
  })

  it('a lone worker scans every slot; so does an eager one (its last scan took leases)', () => {
    expect(scans(['a'], 4).get('a')).toEqual([0, 1, 2, 3])
    expect(nextWatchSlot({ ...base, nowMillis: 4_300, lastSlot: 4, eager: true })).toEqual({ slot: 5, atMillis: 5_000 })
  })

  it('caps the wait between a worker’s scans: ranks beyond the cap share slots', () => {
    const workers = ['a', 'b', 'c', 'd', 'e', 'f']
    const input = { maxWorkerIntervalMillis: 3_500 }
    expect(watchTurns({ ...base, ...input, workers })).toBe(3)
    const result = scans(workers, 6, input)
    expect(result.get('a')).toEqual([0, 3])
    expect(result.get('d')).toEqual([0, 3])
    expect(result.get('f')).toEqual([2, 5])
    expect(watchTurns({ ...base, maxWorkerIntervalMillis: 500 })).toBe(1)
  })
})

const lease = (key: string, counter: number): Lease => ({
  ...newLease(key, { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 }, [], undefined),
  leaseOwner: 'other',
  leaseCounter: counter,
})

/** A fake clock: timers run when `advance` passes their time. */
function fakeTimers() {
  let now = 0
  let nextId = 0
  const due = new Map<number, { at: number; callback: () => void }>()
  const timers: TimerFunctions = {
    setTimeout: (callback, ms) => {
      due.set(++nextId, { at: now + ms, callback })
      return nextId
    },
    clearTimeout: (handle) => void due.delete(handle as number),
  }
  const advance = (ms: number) => {
    now += ms
    for (const [id, timer] of [...due].sort((x, y) => x[1].at - y[1].at)) {
      if (timer.at > now) continue
      due.delete(id)
      timer.callback()
    }
  }
  return { timers, advance, now: () => now, pending: () => due.size }
}

describe('ScheduledTakes', () => {
  it('fires at the scheduled time with the lease as it was seen, not before', () => {
    const clock = fakeTimers()
    const fired: Lease[] = []
    const takes = new ScheduledTakes((l) => fired.push(l), clock.timers, clock.now)
    takes.schedule(lease('s1', 7), 10_001)
    clock.advance(10_000)
    expect(fired).toEqual([])
    clock.advance(1)
    expect(fired.map((l) => [l.leaseKey, l.leaseCounter])).toEqual([['s1', 7]])
    expect(takes.size).toBe(0)
  })

  it('keeps the first timer while the counter is unchanged, re-arms when it moves', () => {
    const clock = fakeTimers()
    const fired: Lease[] = []
    const takes = new ScheduledTakes((l) => fired.push(l), clock.timers, clock.now)
    takes.schedule(lease('s1', 7), 10_001)
    clock.advance(3_000)
    // A later scan of the same counter: the expiry still counts from the first sight.
    takes.schedule(lease('s1', 7), 13_001)
    clock.advance(3_000)
    // The owner renewed: the old timer must not fire.
    takes.schedule(lease('s1', 8), 16_001)
    clock.advance(4_001)
    expect(fired).toEqual([])
    expect(clock.pending()).toBe(1)
    clock.advance(6_000)
    expect(fired.map((l) => l.leaseCounter)).toEqual([8])
  })

  it('retain and cancelAll clear timers, leaving none behind', () => {
    const clock = fakeTimers()
    const fired: Lease[] = []
    const takes = new ScheduledTakes((l) => fired.push(l), clock.timers, clock.now)
    takes.schedule(lease('s1', 1), 100)
    takes.schedule(lease('s2', 1), 100)
    takes.schedule(lease('s3', 1), 100)
    takes.retain(new Set(['s2', 's3']))
    expect(clock.pending()).toBe(2)
    takes.cancelAll()
    expect(clock.pending()).toBe(0)
    clock.advance(1_000)
    expect(fired).toEqual([])
  })
})

import { describe, expect, it } from 'vitest'
import { ExpiryTracker, planLeaseTaking, targetLeaseCount } from './lease-taker.js'
import { type Lease, newLease } from './lease.js'

const lease = (key: string, owner?: string, counter = 1): Lease => ({
  ...newLease(key, { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 }, [], undefined),
  leaseOwner: owner,
  leaseCounter: counter,
})
const limits = { maxLeasesForWorker: 2_147_483_647, maxLeasesToStealAtOneTime: 1 }
const first = () => 0

describe('targetLeaseCount', () => {
  it('is ceil(leases / workers), at least 1, capped by maxLeasesForWorker', () => {
    expect(targetLeaseCount(8, 3, 100)).toBe(3)
    expect(targetLeaseCount(9, 3, 100)).toBe(3)
    expect(targetLeaseCount(10, 3, 100)).toBe(4)
    expect(targetLeaseCount(2, 5, 100)).toBe(1)
    expect(targetLeaseCount(0, 1, 100)).toBe(1)
    expect(targetLeaseCount(8, 1, 5)).toBe(5)
  })
})

describe('planLeaseTaking', () => {
  it('a lone worker takes every available lease', () => {
    const leases = Array.from({ length: 8 }, (_, i) => lease(`s${i}`))
    const plan = planLeaseTaking(leases, new Set(leases.map((l) => l.leaseKey)), 'me', limits, first)
    expect(plan.take).toHaveLength(8)
    expect(plan).toMatchObject({ stealing: false, target: 8, workers: 1 })
  })

  it('takes expired leases before stealing, only up to the target', () => {
    const leases = [lease('a', 'w1'), lease('b', 'w1'), lease('c', 'w1'), lease('d', 'dead'), lease('e', 'dead')]
    const plan = planLeaseTaking(leases, new Set(['d', 'e']), 'me', limits, first)
    // Live workers: w1 and me → target ceil(5/2) = 3; both expired leases are taken, nothing stolen.
    expect(plan.take.map((l) => l.leaseKey).sort()).toEqual(['d', 'e'])
    expect(plan.stealing).toBe(false)
  })

  it('steals at most maxLeasesToStealAtOneTime from the most loaded worker', () => {
    const leases = [
      ...['a', 'b', 'c', 'd', 'e'].map((k) => lease(k, 'busy')),
      ...['f', 'g', 'h'].map((k) => lease(k, 'other')),
    ]
    const plan = planLeaseTaking(leases, new Set(), 'me', limits, first)
    expect(plan.target).toBe(3)
    expect(plan.stealing).toBe(true)
    expect(plan.take).toHaveLength(1)
    expect(plan.take[0]!.leaseOwner).toBe('busy')
    const more = planLeaseTaking(leases, new Set(), 'me', { ...limits, maxLeasesToStealAtOneTime: 5 }, first)
    expect(more.take).toHaveLength(2)
    expect(more.take.every((l) => l.leaseOwner === 'busy')).toBe(true)
  })

  it('steals one when two short and the others are exactly at target (3/3/2 converges)', () => {
    const leases = [...['a', 'b', 'c'].map((k) => lease(k, 'w1')), ...['d', 'e', 'f'].map((k) => lease(k, 'w2'))]
    leases.push(lease('g', 'me'))
    // 7 leases, 3 workers → target 3; me has 1, needs 2, nobody is above target: steal 1.
    const plan = planLeaseTaking(leases, new Set(), 'me', limits, first)
    expect(plan.take).toHaveLength(1)
  })

  it('does nothing at target, and never goes above maxLeasesForWorker', () => {
    const balanced = [lease('a', 'w1'), lease('b', 'w1'), lease('c', 'me'), lease('d', 'me')]
    expect(planLeaseTaking(balanced, new Set(), 'me', limits, first).take).toEqual([])
    const free = Array.from({ length: 6 }, (_, i) => lease(`s${i}`))
    const capped = planLeaseTaking(free, new Set(free.map((l) => l.leaseKey)), 'me', {
      ...limits,
      maxLeasesForWorker: 2,
    })
    expect(capped.take).toHaveLength(2)
  })

  it('spillover: how far the fair share exceeds maxLeasesForWorker, as the Java KCL computes LeaseSpillover', () => {
    const free = Array.from({ length: 6 }, (_, i) => lease(`s${i}`))
    const all = new Set(free.map((l) => l.leaseKey))
    // Alone: fair share 6, capped at 2 → 4 leases left for others.
    expect(planLeaseTaking(free, all, 'me', { ...limits, maxLeasesForWorker: 2 }, first)).toMatchObject({
      target: 2,
      spillover: 4,
    })
    expect(planLeaseTaking(free, all, 'me', limits, first).spillover).toBe(0)
    // Two workers: fair share ceil(6/2) = 3, cap 2 → 1, also when this worker is already at its cap.
    const shared = [...['a', 'b', 'c', 'd'].map((k) => lease(k, 'w1')), lease('e', 'me'), lease('f', 'me')]
    expect(planLeaseTaking(shared, new Set(), 'me', { ...limits, maxLeasesForWorker: 2 }, first)).toMatchObject({
      take: [],
      spillover: 1,
    })
    // More workers than leases (a share of 1), and no leases at all: never a spillover.
    const few = [lease('a', 'w1'), lease('b', 'w2')]
    expect(planLeaseTaking(few, new Set(), 'me', { ...limits, maxLeasesForWorker: 1 }, first).spillover).toBe(0)
    expect(planLeaseTaking([], new Set(), 'me', { ...limits, maxLeasesForWorker: 1 }, first).spillover).toBe(0)
  })
})

describe('ExpiryTracker', () => {
  it('a lease expires only after its counter stood still for failoverTimeMillis', () => {
    const tracker = new ExpiryTracker(1_000)
    const held = new Set<string>()
    expect(tracker.observe([lease('a', 'w1', 5)], 0, 'me', held).has('a')).toBe(false)
    expect(tracker.observe([lease('a', 'w1', 5)], 1_000, 'me', held).has('a')).toBe(false)
    expect(tracker.observe([lease('a', 'w1', 6)], 1_500, 'me', held).has('a')).toBe(false)
    expect(tracker.observe([lease('a', 'w1', 6)], 2_400, 'me', held).has('a')).toBe(false)
    expect(tracker.observe([lease('a', 'w1', 6)], 2_501, 'me', held).has('a')).toBe(true)
  })

  it('unowned leases, and leases naming this worker that it does not hold, are available at once', () => {
    const tracker = new ExpiryTracker(10_000)
    const available = tracker.observe(
      [lease('a'), lease('b', 'me'), lease('c', 'me'), lease('d', 'w1')],
      0,
      'me',
      new Set(['c']),
    )
    expect([...available].sort()).toEqual(['a', 'b'])
  })

  it('tells when a seen counter expires, only for the counter it saw', () => {
    const tracker = new ExpiryTracker(1_000)
    tracker.observe([lease('a', 'w1', 5)], 100, 'me', new Set())
    tracker.observe([lease('a', 'w1', 5)], 600, 'me', new Set())
    expect(tracker.expiresAt('a', 5)).toBe(1_101)
    expect(tracker.isExpired('a', 1_100)).toBe(false)
    expect(tracker.isExpired('a', 1_101)).toBe(true)
    expect(tracker.expiresAt('a', 4)).toBeUndefined()
    expect(tracker.expiresAt('gone', 5)).toBeUndefined()
  })

  it('remembers a lease released by another worker, not a fresh one or one released by this worker', () => {
    const tracker = new ExpiryTracker(10_000)
    tracker.observe([lease('a', 'w1', 3), lease('b', undefined, 0), lease('c', 'me', 4)], 0, 'me', new Set(['c']))
    tracker.observe(
      [lease('a', undefined, 4), lease('b', undefined, 0), lease('c', undefined, 5)],
      100,
      'me',
      new Set(),
    )
    expect(['a', 'b', 'c'].map((k) => tracker.isReleased(k))).toEqual([true, false, false])
    tracker.observe([lease('a', 'w2', 5)], 200, 'me', new Set())
    expect(tracker.isReleased('a')).toBe(false)
  })

  it('drops an owner from the live workers once all its leases stood still across scans stalledAfterMillis apart', () => {
    const tracker = new ExpiryTracker(10_000, 5_000)
    const scan = (now: number, deadCounter: number, liveCounter: number) =>
      tracker.observe(
        [lease('a', 'dead', deadCounter), lease('b', 'dead', deadCounter), lease('c', 'live', liveCounter), lease('u')],
        now,
        'me',
        new Set(),
      )
    scan(0, 1, 1)
    expect(tracker.liveWorkers('me')).toEqual(['dead', 'live', 'me'])
    scan(3_300, 2, 2)
    scan(6_000, 2, 2)
    // 2.7 s still: within a renewal interval and a half, both alive.
    expect(tracker.liveWorkers('me')).toEqual(['dead', 'live', 'me'])
    scan(6_700, 2, 3)
    scan(8_400, 2, 3)
    // dead: unchanged since 3,300 (5.1 s); live renewed at 6,700.
    expect(tracker.liveWorkers('me')).toEqual(['live', 'me'])
    // It comes back as soon as a scan sees its counter move.
    scan(9_000, 3, 3)
    expect(tracker.liveWorkers('me')).toEqual(['dead', 'live', 'me'])
  })
})

describe('KCL 3.x graceful handoffs (checkpointOwner)', () => {
  const handingOff = (key: string, from: string, to: string, counter = 1): Lease => ({
    ...lease(key, to, counter),
    checkpointOwner: from,
  })

  it('a lease in a handoff is not free, even when it names this worker, until it expires', () => {
    const tracker = new ExpiryTracker(10_000)
    const leases = [handingOff('a', 'java-worker', 'me'), handingOff('b', 'java-worker', 'other')]
    expect(tracker.observe(leases, 0, 'me', new Set())).toEqual(new Set())
    expect(tracker.observe(leases, 10_000, 'me', new Set())).toEqual(new Set())
    expect(tracker.observe(leases, 10_001, 'me', new Set())).toEqual(new Set(['a', 'b']))
    // Completed (the old owner assigned it and cleared checkpointOwner): free for the new owner at once.
    const done = new ExpiryTracker(10_000)
    expect(done.observe([lease('a', 'me', 2)], 0, 'me', new Set())).toEqual(new Set(['a']))
  })

  it('counts a lease in a handoff for its actual owner and never steals it', () => {
    const leases = [
      handingOff('a', 'w1', 'w2'),
      handingOff('b', 'w1', 'w2'),
      handingOff('c', 'w1', 'w2'),
      lease('d', 'w1'),
    ]
    // w1 is working all four (three in handoff): the only lease me could steal is d.
    const plan = planLeaseTaking(leases, new Set(), 'me', limits, first)
    expect(plan.workers).toBe(2)
    expect(plan.take.map((l) => l.leaseKey)).toEqual(['d'])
    expect(plan.stealing).toBe(true)
  })
})

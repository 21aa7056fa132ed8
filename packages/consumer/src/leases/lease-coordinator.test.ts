import { InMemoryMetrics, silentLogger } from '@kinesis-ts/shared'
import { sleep } from '@kinesis-ts/shared'
import { describe, expect, it } from 'vitest'
import { METRICS } from '../metrics.js'
import { LeaseCoordinator, type LeaseCoordinatorOptions } from './lease-coordinator.js'
import type { LeaseStore } from './lease-store.js'
import { type Lease, newLease } from './lease.js'

const unowned = (key: string): Lease => ({
  ...newLease(key, { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 }, [], undefined),
  leaseCounter: 1,
})

describe('LeaseCoordinator taking round metrics', () => {
  it('publishes LeaseSpillover with the other taker metrics of the round', async () => {
    const table = Array.from({ length: 5 }, (_, i) => unowned(`shardId-${i}`))
    const store = {
      listLeases: async () => table,
      take: async (lease: Lease, owner: string) => ({
        ...lease,
        leaseOwner: owner,
        leaseCounter: lease.leaseCounter + 1,
      }),
    } as unknown as LeaseStore
    const metrics = new InMemoryMetrics()
    const coordinator = new LeaseCoordinator({
      store,
      workerId: 'me',
      failoverTimeMillis: 10_000,
      renewerIntervalMillis: 1_000,
      maxLeaseRenewalThreads: 20,
      fenceMarginMillis: 1_000,
      takerIntervalMillis: 1_000,
      expiryWatchIntervalMillis: 0,
      maxLeasesForWorker: 2,
      maxLeasesToStealAtOneTime: 1,
      logger: silentLogger,
      metrics,
      onAcquired: () => {},
      onLost: () => {},
    })
    await coordinator.takeLeases()
    await coordinator.stop()
    const sums = Object.fromEntries(metrics.snapshot().map((m) => [m.name, m.sum]))
    // Alone with 5 leases: a share of 5, capped at 2 → 3 spill over; 2 taken.
    expect(sums).toMatchObject({
      [METRICS.totalLeases]: 5,
      [METRICS.numWorkers]: 1,
      [METRICS.neededLeases]: 2,
      [METRICS.leaseSpillover]: 3,
      [METRICS.takenLeases]: 2,
    })
    expect(coordinator.held).toHaveLength(2)
  })
})

const owned = (key: string, owner: string, counter: number): Lease => ({
  ...unowned(key),
  leaseOwner: owner,
  leaseCounter: counter,
})

/** A lease table in memory: conditional takes as LeaseStore's, every call recorded. */
function fakeStore(table: Map<string, Lease>) {
  const calls = { scans: 0, takes: [] as { leaseKey: string; counter: number; at: number; ok: boolean }[] }
  const store = {
    listLeases: async () => {
      calls.scans++
      return [...table.values()]
    },
    take: async (lease: Lease, owner: string) => {
      const current = table.get(lease.leaseKey)
      const ok = current?.leaseCounter === lease.leaseCounter
      calls.takes.push({ leaseKey: lease.leaseKey, counter: lease.leaseCounter, at: performance.now(), ok })
      if (!ok) return undefined
      const taken = { ...lease, leaseOwner: owner, leaseCounter: lease.leaseCounter + 1 }
      table.set(lease.leaseKey, taken)
      return taken
    },
  } as unknown as LeaseStore
  return { store, calls }
}

const FAILOVER = 1_000

function coordinator(store: LeaseStore, overrides: Partial<LeaseCoordinatorOptions> = {}): LeaseCoordinator {
  return new LeaseCoordinator({
    store,
    workerId: 'me',
    failoverTimeMillis: FAILOVER,
    renewerIntervalMillis: 300,
    maxLeaseRenewalThreads: 20,
    fenceMarginMillis: 100,
    takerIntervalMillis: 10_000,
    expiryWatchIntervalMillis: 100,
    maxLeasesForWorker: 100,
    maxLeasesToStealAtOneTime: 1,
    logger: silentLogger,
    metrics: new InMemoryMetrics(),
    onAcquired: () => {},
    onLost: () => {},
    ...overrides,
  })
}

describe('LeaseCoordinator scheduled takes', () => {
  it('takes a stalled lease when it expires, from the counter one scan saw, without reading again', async () => {
    const { store, calls } = fakeStore(new Map([['a', owned('a', 'dead', 5)]]))
    const leases = coordinator(store)
    const scannedAt = performance.now()
    await leases.watchForFreeLeases()
    expect(calls.takes).toEqual([])
    await sleep(FAILOVER + 400)
    expect(calls.scans).toBe(1)
    expect(calls.takes.map(({ leaseKey, counter, ok }) => ({ leaseKey, counter, ok }))).toEqual([
      { leaseKey: 'a', counter: 5, ok: true },
    ])
    // Not before the counter stood still for failoverTimeMillis.
    expect(calls.takes[0]!.at - scannedAt).toBeGreaterThanOrEqual(FAILOVER)
    expect(leases.held.map((h) => h.leaseKey)).toEqual(['a'])
    await leases.stop()
  })

  it('does not take a lease a later scan saw renewed, nor any after stop', async () => {
    const table = new Map([
      ['a', owned('a', 'live', 5)],
      ['b', owned('b', 'dead', 1)],
    ])
    const { store, calls } = fakeStore(table)
    const leases = coordinator(store)
    await leases.watchForFreeLeases()
    await sleep(FAILOVER / 2)
    table.set('a', owned('a', 'live', 6))
    await leases.watchForFreeLeases()
    // Past a's first expiry (from counter 5), short of b's and of a's re-armed one.
    await sleep(FAILOVER / 2 + FAILOVER / 4)
    expect(calls.takes.map((t) => t.leaseKey)).toEqual(['b'])
    await leases.stop()
    await sleep(FAILOVER)
    expect(calls.takes.map((t) => t.leaseKey)).toEqual(['b'])
  })

  it('arms no timer when the watch is off: an expired lease waits for a scan', async () => {
    const { store, calls } = fakeStore(new Map([['a', owned('a', 'dead', 5)]]))
    const leases = coordinator(store, { expiryWatchIntervalMillis: 0 })
    await leases.takeLeases()
    await sleep(FAILOVER + 200)
    expect(calls.takes).toEqual([])
    await leases.takeLeases()
    expect(calls.takes.map((t) => t.leaseKey)).toEqual(['a'])
    await leases.stop()
  })

  it('the watch takes every expired lease, above the fair share, but no live one', async () => {
    const table = new Map<string, Lease>()
    for (let i = 0; i < 6; i++) table.set(`dead-${i}`, owned(`dead-${i}`, 'dead', 1))
    for (let i = 0; i < 2; i++) table.set(`live-${i}`, owned(`live-${i}`, 'live', 1))
    const { store, calls } = fakeStore(table)
    // Watch off, so no timer: this is the scan path.
    const leases = coordinator(store, { expiryWatchIntervalMillis: 0 })
    await leases.watchForFreeLeases()
    await sleep(FAILOVER + 50)
    for (let i = 0; i < 2; i++) table.set(`live-${i}`, owned(`live-${i}`, 'live', 2))
    await leases.watchForFreeLeases()
    // Fair share: 8 leases over 2 live workers = 4; all 6 expired ones are taken.
    expect(leases.held.map((h) => h.leaseKey).sort()).toEqual([...Array(6).keys()].map((i) => `dead-${i}`))
    expect(calls.takes.every((t) => t.ok)).toBe(true)
    await leases.stop()
  })
})

describe('LeaseCoordinator lost take races', () => {
  it("after one lost race for a dead worker's leases, scans again instead of losing the others one by one", async () => {
    const table = new Map<string, Lease>()
    for (let i = 0; i < 6; i++) table.set(`dead-${i}`, owned(`dead-${i}`, 'dead', 1))
    const { store, calls } = fakeStore(table)
    const leases = coordinator(store, { expiryWatchIntervalMillis: 100 })
    await leases.watchForFreeLeases()
    // Before our timers fire, a rival survivor takes four of them; we do not scan in between.
    for (let i = 0; i < 4; i++) table.set(`dead-${i}`, owned(`dead-${i}`, 'rival', 2))
    await sleep(FAILOVER + 400)
    leases.stopTaking()
    // Without the rescan, up to four failed conditional takes; with it, the first loss is the only one.
    expect(calls.takes.filter((t) => !t.ok).length).toBeLessThanOrEqual(1)
    expect(leases.held.map((h) => h.leaseKey).sort()).toEqual(['dead-4', 'dead-5'])
    await leases.stop()
  })
})

describe('LeaseCoordinator availability first', () => {
  it('takes every lease a departing worker released, above the fair share; fresh unowned ones by the fair share', async () => {
    const table = new Map<string, Lease>()
    for (let i = 0; i < 6; i++) table.set(`left-${i}`, owned(`left-${i}`, 'leaving', 1))
    for (let i = 0; i < 2; i++) table.set(`live-${i}`, owned(`live-${i}`, 'live', 1))
    const { store } = fakeStore(table)
    const leases = coordinator(store)
    await leases.watchForFreeLeases()
    for (let i = 0; i < 6; i++) table.set(`left-${i}`, { ...unowned(`left-${i}`), leaseCounter: 2 })
    await leases.watchForFreeLeases()
    // 8 leases over live and me: a share of 4, and all 6 released ones are taken.
    expect(leases.held).toHaveLength(6)
    await leases.stop()

    // Two fresh leases more than a share: me takes its share of a new table only.
    const fresh = new Map<string, Lease>()
    for (let i = 0; i < 4; i++) fresh.set(`live-${i}`, owned(`live-${i}`, 'live', 1))
    for (let i = 0; i < 6; i++) fresh.set(`new-${i}`, { ...unowned(`new-${i}`), leaseCounter: 0 })
    const other = coordinator(fakeStore(fresh).store)
    await other.watchForFreeLeases()
    // 10 leases over 2 workers: a share of 5.
    expect(other.held).toHaveLength(5)
    await other.stop()
  })
})

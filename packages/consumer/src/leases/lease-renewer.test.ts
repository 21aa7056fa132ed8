import { noopMetrics, silentLogger } from '@kinesis-ts/shared'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { HeldLease } from './held-lease.js'
import { LeaseRenewer, type LeaseRenewerOptions } from './lease-renewer.js'
import type { LeaseStore } from './lease-store.js'
import { type Lease, newLease } from './lease.js'

const mine = (counter: number, owner = 'me', key = 's'): Lease => ({
  ...newLease(key, { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 }, [], undefined),
  leaseOwner: owner,
  leaseCounter: counter,
})

interface Table {
  leases: Map<string, Lease>
  /** Renewals of these keys never answer. */
  hang: Set<string>
  calls: string[]
}

function tableOf(...leases: Lease[]): Table {
  return { leases: new Map(leases.map((lease) => [lease.leaseKey, lease])), hang: new Set(), calls: [] }
}

function renewer(table: Table, options: Partial<LeaseRenewerOptions> = {}) {
  const lost: HeldLease[] = []
  const store = {
    renew: async (lease: Lease) => {
      table.calls.push(lease.leaseKey)
      if (table.hang.has(lease.leaseKey)) return new Promise<never>(() => {})
      const current = table.leases.get(lease.leaseKey)
      if (current?.leaseCounter !== lease.leaseCounter || current.leaseOwner !== 'me') return undefined
      const renewed = { ...current, leaseCounter: lease.leaseCounter + 1 }
      table.leases.set(lease.leaseKey, renewed)
      return renewed
    },
    getLease: async (key: string) => table.leases.get(key),
  } as unknown as LeaseStore
  const r = new LeaseRenewer({
    store,
    workerId: 'me',
    failoverTimeMillis: 10_000,
    maxLeaseRenewalThreads: 20,
    fenceMarginMillis: 1_000,
    logger: silentLogger,
    metrics: noopMetrics,
    onLost: (held) => lost.push(held),
    now: () => Date.now(),
    ...options,
  })
  return { r, lost }
}

afterEach(() => {
  vi.useRealTimers()
})

describe('LeaseRenewer', () => {
  it('bumps the counter of every held lease', async () => {
    const table = tableOf(mine(4))
    const { r } = renewer(table)
    const held = r.add(mine(4))
    await r.renewAll()
    expect(held.lease.leaseCounter).toBe(5)
    expect(table.leases.get('s')!.leaseCounter).toBe(5)
    await r.stop()
  })

  it('re-reads after a failed condition: still ours (a committed write whose answer was lost) adopts the counter and renews', async () => {
    const table = tableOf(mine(6))
    const { r, lost } = renewer(table)
    const held = r.add(mine(5))
    await r.renewAll()
    expect(lost).toEqual([])
    expect(held.lost).toBe(false)
    expect(held.lease.leaseCounter).toBe(7)
    expect(table.leases.get('s')!.leaseCounter).toBe(7)
    await r.stop()
  })

  it('declares the lease lost when the re-read shows another owner or no item, and stops renewing it', async () => {
    const table = tableOf(mine(9, 'thief'))
    const { r, lost } = renewer(table)
    const held = r.add(mine(5))
    await r.renewAll()
    expect(lost).toEqual([held])
    expect(held.lost).toBe(true)
    expect(held.lostSignal.aborted).toBe(true)
    expect(r.held).toEqual([])
    table.calls.length = 0
    await r.renewAll()
    expect(table.calls).toEqual([])

    const gone = renewer(tableOf())
    const held2 = gone.r.add(mine(1))
    await gone.r.renewAll()
    expect(gone.lost).toEqual([held2])
    await r.stop()
    await gone.r.stop()
  })

  it('a lease marked lost elsewhere (a checkpoint found another owner) is dropped and reported once, never renewed again', async () => {
    const table = tableOf(mine(1))
    const { r, lost } = renewer(table)
    const held = r.add(mine(1))
    held.markLost('another worker holds it now (checkpoint condition failed)')
    held.markLost('twice')
    expect(lost).toEqual([held])
    expect(r.held).toEqual([])
    await r.renewAll()
    expect(table.calls).toEqual([])
    await r.stop()
  })

  it('a hung renewal delays no other lease: later rounds renew the others and skip the one in flight', async () => {
    const table = tableOf(mine(1, 'me', 'a'), mine(1, 'me', 'b'), mine(1, 'me', 'c'))
    table.hang.add('b')
    const { r } = renewer(table)
    const a = r.add(mine(1, 'me', 'a'))
    r.add(mine(1, 'me', 'b'))
    const c = r.add(mine(1, 'me', 'c'))
    void r.renewAll()
    await vi.waitFor(() => expect(a.lease.leaseCounter).toBe(2))
    void r.renewAll()
    await vi.waitFor(() => expect(c.lease.leaseCounter).toBe(3))
    expect(a.lease.leaseCounter).toBe(3)
    expect(table.calls.filter((key) => key === 'b')).toEqual(['b'])
  })

  it('runs at most maxLeaseRenewalThreads renewals at once', async () => {
    const leases = ['a', 'b', 'c', 'd', 'e'].map((key) => mine(1, 'me', key))
    const table = tableOf(...leases)
    for (const lease of leases) table.hang.add(lease.leaseKey)
    const { r } = renewer(table, { maxLeaseRenewalThreads: 2 })
    for (const lease of leases) r.add(lease)
    void r.renewAll()
    await new Promise((resolve) => setImmediate(resolve))
    await new Promise((resolve) => setImmediate(resolve))
    expect(table.calls).toEqual(['a', 'b'])
  })

  it('fences itself: a lease whose renewal hangs is given up before failoverTimeMillis, while the call still hangs', async () => {
    vi.useFakeTimers()
    const table = tableOf(mine(1))
    const { r, lost } = renewer(table)
    const held = r.add(mine(1))
    await r.renewAll()
    expect(held.lease.leaseCounter).toBe(2)
    table.hang.add('s')
    void r.renewAll()
    await vi.advanceTimersByTimeAsync(8_999)
    expect(held.lost).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(held.lost).toBe(true)
    expect(held.lostReason).toBe('not renewed for 9000 ms (failoverTimeMillis 10000)')
    expect(lost).toEqual([held])
    expect(r.held).toEqual([])
  })

  it('a successful renewal moves the fence; stop() clears every fence timer', async () => {
    vi.useFakeTimers()
    const table = tableOf(mine(1))
    const { r } = renewer(table)
    const held = r.add(mine(1))
    await vi.advanceTimersByTimeAsync(8_000)
    await r.renewAll()
    await vi.advanceTimersByTimeAsync(8_000)
    expect(held.lost).toBe(false)
    await r.stop()
    expect(vi.getTimerCount()).toBe(0)
  })

  it('a renewal queued behind another write of the lease is not sent once the lease was released meanwhile', async () => {
    const table = tableOf(mine(1))
    const { r } = renewer(table)
    const held = r.add(mine(1))
    let finishCheckpoint!: () => void
    // A slow checkpoint holds the lease's write queue.
    const checkpoint = held.write(
      (lease) =>
        new Promise((resolve) => {
          finishCheckpoint = () => resolve({ ...lease, leaseCounter: lease.leaseCounter + 1 })
        }),
    )
    const renewal = r.renewAll()
    await new Promise((resolve) => setImmediate(resolve))
    r.remove('s')
    table.leases.set('s', mine(2))
    finishCheckpoint()
    await checkpoint
    await renewal
    expect(table.calls).toEqual([])
    await r.stop()
  })
})

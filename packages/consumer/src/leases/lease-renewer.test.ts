import { noopMetrics, silentLogger } from '@kinesis-ts/shared'
import { describe, expect, it } from 'vitest'
import type { HeldLease } from './held-lease.js'
import { LeaseRenewer } from './lease-renewer.js'
import type { LeaseStore } from './lease-store.js'
import { type Lease, newLease } from './lease.js'

const mine = (counter: number, owner = 'me'): Lease => ({
  ...newLease('s', { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 }, [], undefined),
  leaseOwner: owner,
  leaseCounter: counter,
})

function renewer(table: { lease: Lease | undefined }, failRenew = false) {
  const lost: HeldLease[] = []
  const store = {
    renew: async (lease: Lease) => {
      if (failRenew || table.lease?.leaseCounter !== lease.leaseCounter || table.lease.leaseOwner !== 'me')
        return undefined
      table.lease = { ...table.lease, leaseCounter: lease.leaseCounter + 1 }
      return table.lease
    },
    getLease: async () => table.lease,
  } as unknown as LeaseStore
  const r = new LeaseRenewer({
    store,
    workerId: 'me',
    failoverTimeMillis: 10_000,
    logger: silentLogger,
    metrics: noopMetrics,
    onLost: (held) => lost.push(held),
  })
  return { r, lost }
}

describe('LeaseRenewer', () => {
  it('bumps the counter of every held lease', async () => {
    const table = { lease: mine(4) as Lease | undefined }
    const { r } = renewer(table)
    const held = r.add(mine(4))
    await r.renewAll()
    expect(held.lease.leaseCounter).toBe(5)
    expect(table.lease!.leaseCounter).toBe(5)
  })

  it('re-reads after a failed condition: still ours (a lost response) keeps the lease', async () => {
    const table = { lease: mine(6) as Lease | undefined }
    const { r, lost } = renewer(table)
    const held = r.add(mine(5))
    await r.renewAll()
    expect(lost).toEqual([])
    expect(held.lost).toBe(false)
    expect(held.lease.leaseCounter).toBe(6)
  })

  it('declares the lease lost when the re-read shows another owner or no item', async () => {
    const table = { lease: mine(9, 'thief') as Lease | undefined }
    const { r, lost } = renewer(table)
    const held = r.add(mine(5))
    await r.renewAll()
    expect(lost).toEqual([held])
    expect(held.lost).toBe(true)
    expect(held.lostSignal.aborted).toBe(true)
    expect(r.held).toEqual([])

    const gone = renewer({ lease: undefined })
    const held2 = gone.r.add(mine(1))
    await gone.r.renewAll()
    expect(gone.lost).toEqual([held2])
  })
})

import { InMemoryMetrics, silentLogger } from '@kinesis-ts/shared'
import { describe, expect, it } from 'vitest'
import { METRICS } from '../metrics.js'
import { LeaseCoordinator } from './lease-coordinator.js'
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

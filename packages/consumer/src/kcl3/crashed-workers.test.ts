import { describe, expect, it } from 'vitest'
import { newLease } from '../leases/lease.js'
import type { ObservedLease } from './assignment-plan.js'
import type { WorkerMetricStats } from './contracts.js'
import { CrashedWorkers } from './crashed-workers.js'

const TRIM = { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 }

const held = (key: string, owner: string, expired: boolean): ObservedLease => ({
  lease: { ...newLease(key, TRIM, [], undefined), leaseOwner: owner, leaseCounter: 5 },
  expired,
  lastCounterChangeAt: 1,
})

const report = (workerId: string, lut: number): WorkerMetricStats => ({
  workerId,
  lastUpdateTimeSeconds: lut,
  metricStats: { C: [10] },
  operatingRange: { C: [100] },
})

const ids = (workers: readonly WorkerMetricStats[]) => workers.map((w) => w.workerId)

describe('CrashedWorkers', () => {
  it('leaves out a worker whose leases all expired until it reports again, even once it holds nothing', () => {
    const crashed = new CrashedWorkers()
    const fleet = [report('live', 100), report('dead', 100)]
    const before = [held('a', 'live', false), held('b', 'dead', true), held('c', 'dead', true)]
    expect(ids(crashed.live(fleet, before))).toEqual(['live'])
    // Its leases moved: it holds nothing, and its unchanged report still looks active.
    const after = [held('a', 'live', false), held('b', 'live', false), held('c', 'live', false)]
    expect(ids(crashed.live(fleet, after))).toEqual(['live'])
    // A newer report (a restarted process) makes it a receiver again.
    expect(ids(crashed.live([report('live', 100), report('dead', 101)], after))).toEqual(['live', 'dead'])
  })

  it('keeps a worker that renews some of its leases, and one that holds none', () => {
    const crashed = new CrashedWorkers()
    const fleet = [report('partly', 100), report('empty', 100)]
    const leases = [held('a', 'partly', true), held('b', 'partly', false)]
    expect(ids(crashed.live(fleet, leases))).toEqual(['partly', 'empty'])
  })
})

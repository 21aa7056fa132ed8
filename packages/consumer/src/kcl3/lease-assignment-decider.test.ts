import { describe, expect, it } from 'vitest'
import { type Lease, newLease } from '../leases/lease.js'
import type { WorkerMetricStats } from './contracts.js'
import {
  type AssignmentThresholds,
  DEFAULT_ASSIGNMENT_THRESHOLDS,
  type ObservedLease,
  type PlannedMove,
  emaOf,
  planAssignments,
  writesFor,
} from './lease-assignment-decider.js'
import { activeWorkerMetrics, isValidWorkerMetricStats } from './worker-metric-rules.js'

/*
 * Cases pinned to the Java KCL 3.5.1 behaviour. Most mirror a test of
 * LeaseAssignmentManagerTest.java (named in each case), run with that file's config:
 * getWorkerUtilizationAwareAssignmentConfig = dampeningPercentage 80, varianceBalancingFrequency 1.
 */

const TRIM = { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 }
const NOW = 1_800_000_000_000
const REPORT_EVERY = 30_000

/** Java createDummyUnAssignedLease / createDummyLease (owner, counter 123, 10 KB/s). */
function lease(key: string, owner?: string, fields: Partial<Lease> = {}): Lease {
  const base = newLease(key, TRIM, [], undefined)
  return owner === undefined
    ? { ...base, ...fields }
    : { ...base, leaseOwner: owner, leaseCounter: 123, throughputKBps: 10, ...fields }
}

function observed(l: Lease, extra: Partial<ObservedLease> = {}): ObservedLease {
  return { lease: l, expired: false, lastCounterChangeAt: l.leaseOwner === undefined ? 0 : 1_000, ...extra }
}

/** Java createDummyWorkerMetrics: two equal reports and one operating range. */
function worker(id: string, cpu: number | number[], range = 80): WorkerMetricStats {
  return {
    workerId: id,
    lastUpdateTimeSeconds: NOW / 1000,
    metricStats: { C: Array.isArray(cpu) ? cpu : [cpu, cpu] },
    operatingRange: { C: [range] },
  }
}

/** Java createDummyDefaultWorkerMetrics: no explicit metric. */
function defaultWorker(id: string): WorkerMetricStats {
  return { workerId: id, lastUpdateTimeSeconds: NOW / 1000, metricStats: {}, operatingRange: {} }
}

const JAVA_TEST_CONFIG: AssignmentThresholds = { ...DEFAULT_ASSIGNMENT_THRESHOLDS, dampeningPercentage: 80 }

function plan(
  leases: ObservedLease[],
  workers: WorkerMetricStats[],
  thresholds: Partial<AssignmentThresholds> = {},
  random: () => number = Math.random,
): PlannedMove[] {
  return planAssignments({
    leases,
    workers: activeWorkerMetrics(workers, NOW, REPORT_EVERY),
    balance: true,
    thresholds: { ...JAVA_TEST_CONFIG, ...thresholds },
    random,
  })
}

/** Owner of every lease after the moves. */
function owners(leases: ObservedLease[], moves: PlannedMove[]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {}
  for (const o of leases) out[o.lease.leaseKey] = o.lease.checkpointOwner ?? o.lease.leaseOwner
  for (const m of moves) out[m.observed.lease.leaseKey] = m.toWorker
  return out
}

const count = (map: Record<string, string | undefined>, id: string) => Object.values(map).filter((o) => o === id).length

describe('step 1: expired and unassigned leases (assignExpiredOrUnassignedLeases)', () => {
  it('a new lease goes to the worker with most capacity (performAssignment_yieldAndTakeWorker_validateNewLeaseAssignedToTakeWorker)', () => {
    const leases = [observed(lease('something'))]
    const moves = plan(leases, [worker('yield', 90), worker('take', 50)], { reBalanceThresholdPercentage: 20 })
    expect(owners(leases, moves)).toEqual({ something: 'take' })
  })

  it('a worker whose last report failed (−1) gets nothing; one that failed earlier does (…FailingWorkerMetric…, …FailingWorkerMetricInPast…)', () => {
    const leases = [observed(lease('a')), observed(lease('b'))]
    expect(plan(leases, [worker('failing', [50, -1])])).toEqual([])
    expect(count(owners(leases, plan(leases, [worker('recovered', [-1, 50, 50])])), 'recovered')).toBe(2)
  })

  it('stops at maxLeasesForWorker (performAssignment_moreLeasesThanMaxConfigured_assertSomeUnassignedLeases)', () => {
    const leases = ['l1', 'l2', 'l3'].map((k) => observed(lease(k)))
    const moves = plan(leases, [worker('take', 50)], { maxLeasesForWorker: 2 })
    expect(moves).toHaveLength(2)
  })

  it('unassigned leases go before expired ones (performAssignment_unAssignedAndExpiredLeasesBothAvailable_validateUnAssignedLeaseAssignedFirst)', () => {
    const leases = [
      observed(lease('expiredLease', 'random-owner'), { expired: true, lastCounterChangeAt: 100 }),
      observed(lease('unAssignedLease')),
    ]
    // maxThroughputPerHostKBps 9: after one lease (10 KB/s) the only worker is full.
    const moves = plan(leases, [worker('take', 50)], { maxThroughputPerHostKBps: 9 })
    expect(owners(leases, moves)).toEqual({ expiredLease: 'random-owner', unAssignedLease: 'take' })
  })

  it('a worker without fresh metrics gets nothing (performAssignment_inActiveWorkerWithLowUtilizationAvailable_verifyLeaseNotAssigned)', () => {
    const inactive = { ...worker('inactive', 5), lastUpdateTimeSeconds: 0 }
    const leases = [observed(lease('k1')), observed(lease('k2'))]
    const moves = plan(leases, [worker('yield', 90), inactive], { maxThroughputPerHostKBps: 9 })
    expect(owners(leases, moves)).toEqual({ k1: 'yield', k2: 'yield' })
  })

  it('an expired lease in a handoff may go back to its checkpointOwner (VarianceBasedLeaseAssignmentDecider.assignLease, isPendingCheckpointExpired)', () => {
    const stuck = observed(lease('stuck', 'A', { checkpointOwner: 'B' }), { expired: true })
    const moves = plan([stuck], [worker('B', 50)])
    expect(moves.map((m) => m.toWorker)).toEqual(['B'])
    // Not expired, its actual owner is not given it again.
    expect(plan([{ ...stuck, expired: false }], [worker('B', 50)])).toEqual([])
  })

  it('default-metric workers are filled by a synthetic throughput metric (loadInMemoryStorageView_testDefaultWorkerMetricTakeLeasesUtilRatioCalculation)', () => {
    const leases = [
      observed(lease('lease1')),
      observed(lease('lease2')),
      observed(lease('lease3')),
      observed(lease('lease6', 'worker2')),
    ]
    const moves = plan(leases, [defaultWorker('worker1'), worker('worker2', 50)], { reBalanceThresholdPercentage: 20 })
    const after = owners(leases, moves)
    expect([count(after, 'worker1'), count(after, 'worker2')]).toEqual([3, 1])
  })

  it('an idle fleet (all at 0 %) is filled evenly', () => {
    const leases = Array.from({ length: 12 }, (_, i) => observed(lease(`shard-${i}`)))
    const after = owners(leases, plan(leases, [worker('w1', 0), worker('w2', 0), worker('w3', 0)]))
    expect([count(after, 'w1'), count(after, 'w2'), count(after, 'w3')]).toEqual([4, 4, 4])
  })
})

describe('step 1 while no lease carries a throughput (beyond Java: fewest leases first)', () => {
  const cold = (n: number) => Array.from({ length: n }, (_, i) => observed(lease(`shard-${i}`)))

  it('a cold table is split evenly whatever start-up CPU each worker reported', () => {
    const leases = cold(12)
    const after = owners(leases, plan(leases, [worker('w1', 12), worker('w2', 30), worker('w3', 55)]))
    expect([count(after, 'w1'), count(after, 'w2'), count(after, 'w3')]).toEqual([4, 4, 4])
    const odd = cold(13)
    const oddAfter = owners(odd, plan(odd, [worker('w1', 12), worker('w2', 30), worker('w3', 55)]))
    // The extra lease goes to the worker with the most capacity.
    expect([count(oddAfter, 'w1'), count(oddAfter, 'w2'), count(oddAfter, 'w3')]).toEqual([5, 4, 4])
  })

  it("counts the leases a worker already holds: a crashed worker's unmeasured leases fill the emptiest survivor first", () => {
    const leases = [
      ...['a1', 'a2', 'a3'].map((k) => observed(lease(k, 'A', { throughputKBps: undefined }))),
      observed(lease('b1', 'B', { throughputKBps: undefined })),
      ...['x1', 'x2'].map((k) => observed(lease(k, 'X', { throughputKBps: undefined }), { expired: true })),
    ]
    // Java's capacity order gives A (the lower CPU) the first one: 4-2.
    const after = owners(leases, plan(leases, [worker('A', 50), worker('B', 52)]))
    expect([count(after, 'A'), count(after, 'B')]).toEqual([3, 3])
  })

  it('once a lease is measured the Java capacity order decides again', () => {
    const leases = [observed(lease('hot', 'w3', { throughputKBps: 10 })), ...cold(2)]
    const after = owners(
      leases,
      plan(leases, [worker('w1', 12), worker('w3', 55)], { reBalanceThresholdPercentage: 100 }),
    )
    expect([count(after, 'w1'), count(after, 'w3')]).toEqual([2, 1])
  })
})

describe('step 2: variance balancing (balanceWorkerVariance)', () => {
  it('above its operating range though within the threshold: one lease moves (performAssignment_workerNotAboveReBalanceThresholdButAboveOperatingRange_asserReBalance)', () => {
    const leases = [
      observed(lease('lease1', 'Worker2', { throughputKBps: 1000 })),
      observed(lease('lease2', 'Worker2', { throughputKBps: 1 })),
    ]
    const moves = plan(leases, [worker('Worker1', 41, 50), worker('Worker2', 59, 50)], {
      reBalanceThresholdPercentage: 20,
    })
    expect(owners(leases, moves)).toEqual({ lease1: 'Worker2', lease2: 'Worker1' })
  })

  it('no throughput measured: one lease moves per run (performAssignment_noThroughputToWorker_assertOneLeaseTaken)', () => {
    const leases = Array.from({ length: 10 }, (_, i) => observed(lease(`lease${i}`, 'yield', { throughputKBps: 0 })))
    const after = owners(
      leases,
      plan(leases, [worker('yield', 90), worker('take', 50)], { reBalanceThresholdPercentage: 20 }),
    )
    expect([count(after, 'yield'), count(after, 'take')]).toEqual([9, 1])
  })

  it('overshoot: off moves nothing, on moves the smallest lease (performAssignment_takeOvershootingLease_verifySmallestLeaseTaken)', () => {
    const leases = [
      observed(lease('lease1', 'yield', { throughputKBps: 300 })),
      observed(lease('lease2', 'yield', { throughputKBps: 299 })),
      observed(lease('lease3', 'yield', { throughputKBps: 301 })),
      observed(lease('lease4', 'take', { throughputKBps: 3000 })),
    ]
    const fleet = [worker('yield', 90), worker('take', 50)]
    expect(plan(leases, fleet, { allowThroughputOvershoot: false })).toEqual([])
    const moves = plan(leases, fleet)
    expect(moves.map((m) => [m.observed.lease.leaseKey, m.toWorker])).toEqual([['lease2', 'take']])
  })

  it('a hot worker sheds to an idle one until the receiver would pass the average (performAssignment_workerWithHotWorkerMetricButNotAboveAverage_validateRebalance)', () => {
    const leases = Array.from({ length: 6 }, (_, i) => observed(lease(`leaseKey${i + 1}`, 'random')))
    const after = owners(
      leases,
      plan(leases, [worker('random', 90, 50), worker('take', 40)], { reBalanceThresholdPercentage: 20 }),
    )
    expect([count(after, 'random'), count(after, 'take')]).toEqual([5, 1])
  })

  it("a donor's single lease moves when it fits (performAssignment_yieldWorkerWithSingleLease_assertReBalance)", () => {
    const leases = [
      observed(lease('lease1', 'yield', { throughputKBps: 5 })),
      observed(lease('lease2', 'take', { throughputKBps: 30 })),
    ]
    const moves = plan(leases, [worker('yield', 90), worker('take', 50)], { reBalanceThresholdPercentage: 20 })
    expect(owners(leases, moves)).toEqual({ lease1: 'take', lease2: 'take' })
  })

  it('within ±reBalanceThresholdPercentage of the average and in range: nothing moves (getWorkersToTakeLeasesFromIfRequired)', () => {
    const leases = [observed(lease('a', 'w1')), observed(lease('b', 'w2'))]
    expect(plan(leases, [worker('w1', 52), worker('w2', 48)])).toEqual([])
  })

  it('workers without active metrics neither give nor receive (their renewed leases stay)', () => {
    const leases = Array.from({ length: 4 }, (_, i) => observed(lease(`l${i}`, 'java-without-metrics')))
    expect(plan(leases, [worker('idle', 0)])).toEqual([])
  })
})

describe('writes (parallelyAssignLeases, Lease.blockedOnPendingCheckpoint / isEligibleForGracefulShutdown)', () => {
  const fleet = [worker('yield', 90), worker('take', 50)]
  const twoLeases = (l1: Partial<Lease> = {}) => [
    observed(lease('lease1', 'yield', { throughputKBps: 5, ...l1 }), { handoffTimeoutAt: 50_000 }),
    observed(lease('lease2', 'yield', { throughputKBps: 30 })),
  ]

  it('a live lease moves by graceful handoff, an expired or unassigned one by assign (performAssignment_testAssignmentHandlingForDifferentPendingCheckpointStatesLeases, step 1)', () => {
    const moves = plan(twoLeases(), fleet, { reBalanceThresholdPercentage: 20 })
    expect(writesFor(moves, 0, true).map((w) => [w.lease.leaseKey, w.toWorker, w.kind])).toEqual([
      ['lease1', 'take', 'handoff'],
    ])
    expect(writesFor(moves, 0, false).map((w) => w.kind)).toEqual(['assign'])
    const fresh = plan([observed(lease('new'))], fleet)
    expect(writesFor(fresh, 0, true).map((w) => w.kind)).toEqual(['assign'])
  })

  it('a lease already in handoff is skipped until the timeout, then assigned (same Java test, steps 2 and 3)', () => {
    const inHandoff = twoLeases({ leaseOwner: 'take', checkpointOwner: 'yield' })
    const moves = plan(inHandoff, fleet, { reBalanceThresholdPercentage: 20 })
    expect(moves.map((m) => m.observed.lease.leaseKey)).toEqual(['lease1'])
    expect(writesFor(moves, 49_999, true)).toEqual([])
    expect(writesFor(moves, 50_000, true).map((w) => [w.lease.leaseKey, w.kind])).toEqual([['lease1', 'assign']])
  })

  it('an expired lease in handoff is assigned at once (performAssignment_expiredLeasesButPendingCheckpointNotExpiredLease_validateItIsAssigned)', () => {
    const expired = observed(lease('expiredLease', 'random-owner', { checkpointOwner: 'another-random-owner' }), {
      expired: true,
      handoffTimeoutAt: 1e12,
    })
    const moves = plan([expired], [worker('take', 50)])
    expect(writesFor(moves, 0, true).map((w) => [w.toWorker, w.kind])).toEqual([['take', 'assign']])
  })

  it('a SHARD_END lease is never handed off', () => {
    const ended = observed(
      lease('done', 'yield', { checkpoint: { sequenceNumber: 'SHARD_END', subSequenceNumber: 0 } }),
    )
    expect(writesFor([{ observed: ended, toWorker: 'take' }], 0, true).map((w) => w.kind)).toEqual(['assign'])
  })
})

describe('metric rules (WorkerMetricStats.java)', () => {
  it('EMA skips −1 and starts at the first value (computeAverage, ExponentialMovingAverage)', () => {
    expect(emaOf([10, -1, 20], 0.5)).toBe(15)
    expect(emaOf([], 0.5)).toBe(0)
  })

  it('isValidWorkerMetric: lut, an opr entry per sts metric, no 0 range; the default metric is valid', () => {
    expect(isValidWorkerMetricStats(worker('w', 50))).toBe(true)
    expect(isValidWorkerMetricStats(defaultWorker('w'))).toBe(true)
    expect(isValidWorkerMetricStats({ ...worker('w', 50), lastUpdateTimeSeconds: Number.NaN })).toBe(false)
    expect(isValidWorkerMetricStats({ ...worker('w', 50), operatingRange: { M: [80] } })).toBe(false)
    expect(isValidWorkerMetricStats(worker('w', 50, 0))).toBe(false)
    expect(
      isValidWorkerMetricStats({ ...defaultWorker('w'), operatingRange: { C: [100] }, lacksMetricMaps: true }),
    ).toBe(false)
  })

  it('active = reported within 2 × workerMetricsReporterFreqInMillis', () => {
    const at = (seconds: number) => ({ ...worker('w', 50), lastUpdateTimeSeconds: seconds })
    expect(activeWorkerMetrics([at(NOW / 1000 - 60)], NOW, REPORT_EVERY)).toHaveLength(1)
    expect(activeWorkerMetrics([at(NOW / 1000 - 61)], NOW, REPORT_EVERY)).toHaveLength(0)
  })
})

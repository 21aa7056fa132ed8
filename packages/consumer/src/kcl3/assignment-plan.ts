import { type Lease, actualOwner } from '../leases/lease.js'
import type { WorkerMetricStats } from './contracts.js'
import { isUsingDefaultWorkerMetric } from './worker-metric-rules.js'

/*
 * The state of one planning run of the Java KCL 3.x leader: its InMemoryStorageView (who holds what,
 * assigned throughput; J/coordinator/assignment/LeaseAssignmentManager.java), the receivers' queue of
 * VarianceBasedLeaseAssignmentDecider.java and the metric arithmetic of
 * J/worker/metricstats/WorkerMetricStats.java. The steps that use it are in lease-assignment-decider.ts.
 */

/** The Java `WorkerUtilizationAwareAssignmentConfig` thresholds (and `maxLeasesForWorker`). */
export interface AssignmentThresholds {
  readonly maxLeasesForWorker: number
  readonly maxThroughputPerHostKBps: number
  readonly reBalanceThresholdPercentage: number
  readonly dampeningPercentage: number
  readonly allowThroughputOvershoot: boolean
  readonly workerMetricsEMAAlpha: number
}

export const DEFAULT_ASSIGNMENT_THRESHOLDS: AssignmentThresholds = Object.freeze({
  maxLeasesForWorker: Number.MAX_SAFE_INTEGER,
  maxThroughputPerHostKBps: Number.POSITIVE_INFINITY,
  reBalanceThresholdPercentage: 10,
  dampeningPercentage: 60,
  allowThroughputOvershoot: true,
  workerMetricsEMAAlpha: 0.5,
})

/** A lease as the leader saw it across its scans. */
export interface ObservedLease {
  readonly lease: Lease
  /** The leader's own view: `leaseCounter` unchanged for failoverTimeMillis. */
  readonly expired: boolean
  /** When the leader saw the counter change (monotonic ms); 0 for an unassigned lease never seen owned, so it goes first. */
  readonly lastCounterChangeAt: number
  /** While `checkpointOwner` is set: when the leader may stop waiting for the handoff (monotonic ms). */
  readonly handoffTimeoutAt?: number | undefined
}

export { actualOwner } from '../leases/lease.js'

export function expiredOrUnassigned(observed: ObservedLease): boolean {
  return observed.expired || actualOwner(observed.lease) === undefined
}

export const isShardEnd = (lease: Lease) => lease.checkpoint.sequenceNumber === 'SHARD_END'

/** Java ExponentialMovingAverage over the values, −1 (failed capture) skipped; 0 for none. */
export function emaOf(values: readonly number[], alpha: number): number {
  let value = 0
  let started = false
  for (const v of values) {
    if (v === -1) continue
    value = started ? alpha * v + (1 - alpha) * value : v
    started = true
  }
  return value
}

/** One worker during planning: its metric values move as leases are (virtually) added. */
export interface Worker {
  readonly id: string
  readonly metricNames: readonly string[]
  readonly maxUtilization: ReadonlyMap<string, number>
  readonly values: Map<string, number>
}

/** The run's in-memory view (Java InMemoryStorageView) and the decider's state. */
export class Plan {
  readonly leasesOf = new Map<string | undefined, Set<ObservedLease>>()
  readonly throughputOf = new Map<string | undefined, number>()
  readonly leaseThroughput = new Map<ObservedLease, number>()
  readonly moves = new Map<ObservedLease, string>()
  readonly fleetAverage = new Map<string, number>()
  readonly workers: Worker[]
  readonly queue: Worker[]
  readonly targetAverageThroughput: number
  readonly targetLeasePerWorker: number

  constructor(
    leases: readonly ObservedLease[],
    stats: readonly WorkerMetricStats[],
    readonly limits: AssignmentThresholds,
  ) {
    const known = leases.map((o) => o.lease.throughputKBps).filter((t): t is number => t !== undefined)
    const averageLeaseThroughput = known.length === 0 ? 0 : known.reduce((a, b) => a + b, 0) / known.length
    this.targetAverageThroughput = (averageLeaseThroughput * leases.length) / Math.max(1, stats.length)
    for (const observed of leases) {
      // A lease never measured (new, or unassigned) counts as the average lease.
      const throughput = observed.lease.throughputKBps ?? averageLeaseThroughput
      this.leaseThroughput.set(observed, throughput)
      const owner = actualOwner(observed.lease)
      this.#leasesOf(owner).add(observed)
      this.throughputOf.set(owner, this.throughput(owner) + throughput)
    }
    this.workers = stats.map((s) => this.#worker(s))
    const sums = new Map<string, { total: number; count: number }>()
    for (const worker of this.workers) {
      for (const name of worker.metricNames) {
        const sum = sums.get(name) ?? { total: 0, count: 0 }
        sum.total += worker.values.get(name)!
        sum.count++
        sums.set(name, sum)
      }
    }
    for (const [name, { total, count }] of sums) this.fleetAverage.set(name, total / count)
    this.targetLeasePerWorker = Math.max(Math.floor(leases.length / Math.max(stats.length, 1)), 1)
    this.queue = this.workers.filter((w) => this.hasRoom(w.id))
  }

  #worker(stats: WorkerMetricStats): Worker {
    if (isUsingDefaultWorkerMetric(stats)) {
      // Java: a synthetic `T` = assigned ÷ target throughput × 100, range 100. Java divides 0 by 0 at
      // start-up (NaN for every such worker, so its queue order is arbitrary); 0 spreads leases evenly.
      const ratio =
        this.targetAverageThroughput > 0 ? this.throughput(stats.workerId) / this.targetAverageThroughput : 0
      return {
        id: stats.workerId,
        metricNames: ['T'],
        maxUtilization: new Map([['T', 100]]),
        values: new Map([['T', ratio * 100]]),
      }
    }
    const names = Object.keys(stats.metricStats).sort()
    return {
      id: stats.workerId,
      metricNames: names,
      maxUtilization: new Map(names.map((n) => [n, stats.operatingRange[n]?.[0] ?? 0])),
      values: new Map(names.map((n) => [n, emaOf(stats.metricStats[n]!, this.limits.workerMetricsEMAAlpha)])),
    }
  }

  #leasesOf(owner: string | undefined): Set<ObservedLease> {
    const set = this.leasesOf.get(owner) ?? new Set<ObservedLease>()
    this.leasesOf.set(owner, set)
    return set
  }

  throughput(owner: string | undefined): number {
    return this.throughputOf.get(owner) ?? 0
  }

  /** Java isWorkerTotalThroughputLessThanMaxThroughput && isWorkerAssignedLeasesLessThanMaxLeases. */
  hasRoom(workerId: string): boolean {
    return (
      this.throughput(workerId) <= this.limits.maxThroughputPerHostKBps &&
      (this.leasesOf.get(workerId)?.size ?? 0) < this.limits.maxLeasesForWorker
    )
  }

  /** Java computePercentageToReachAverage: the metric closest to its average decides. */
  capacity(worker: Worker): number {
    let min = Number.MAX_VALUE
    for (const name of worker.metricNames) {
      const value = worker.values.get(name)!
      min = Math.min(min, value === 0 ? 1 : (this.fleetAverage.get(name)! - value) / value)
    }
    return min
  }

  /**
   * The worker with the most capacity (Java's PriorityQueue, reversed). Ties, which Java leaves to
   * heap order, go to the worker with fewer leases, then the smaller id, so an idle fleet is filled evenly.
   *
   * Beyond Java: while no lease carries a measured throughput (a cold table, an idle stream), the
   * worker with fewer leases comes first and capacity only breaks ties. Java's own extrapolation is
   * then by count (each lease adds average ÷ targetLeasePerWorker), but it starts from each worker's
   * current metric, which on a fresh fleet is start-up noise that no lease caused (one worker's
   * start-up CPU at twice another's gave 2-6-4 splits of 12 leases): the cold split it made stayed
   * uneven until variance balancing, three runs (60 s) later, and that only moves on the metric.
   */
  poll(): Worker | undefined {
    let best = -1
    for (let i = 0; i < this.queue.length; i++) {
      if (best < 0 || this.#before(this.queue[i]!, this.queue[best]!)) best = i
    }
    return best < 0 ? undefined : this.queue.splice(best, 1)[0]
  }

  #before(a: Worker, b: Worker): boolean {
    const ca = this.capacity(a)
    const cb = this.capacity(b)
    const la = this.leasesOf.get(a.id)?.size ?? 0
    const lb = this.leasesOf.get(b.id)?.size ?? 0
    if (this.targetAverageThroughput === 0 && la !== lb) return la < lb
    if (ca !== cb) return ca > cb
    return la !== lb ? la < lb : a.id < b.id
  }

  /** Java extrapolateMetricsValue: the metric value once `throughput` more is assigned. */
  extrapolated(worker: Worker, name: string, throughput: number): number {
    const average = this.fleetAverage.get(name)!
    const value = worker.values.get(name)!
    return this.targetAverageThroughput > 0
      ? value + (throughput * average) / this.targetAverageThroughput
      : value + average / this.targetLeasePerWorker
  }

  /** Java willAnyMetricStatsGoAboveAverageUtilizationOrOperatingRange. */
  wouldOverfill(worker: Worker, throughput: number): boolean {
    return worker.metricNames.some((name) => {
      const next = this.extrapolated(worker, name, throughput)
      return next > this.fleetAverage.get(name)! || next > worker.maxUtilization.get(name)!
    })
  }

  /** Java VarianceBasedLeaseAssignmentDecider.assignLease. */
  assign(observed: ObservedLease, worker: Worker, isExpiredLease: boolean): void {
    const pendingCheckpointExpired = isExpiredLease && observed.lease.checkpointOwner !== undefined
    const from = actualOwner(observed.lease)
    if (!pendingCheckpointExpired && from === worker.id) {
      this.queue.push(worker)
      return
    }
    const throughput = this.leaseThroughput.get(observed)!
    for (const name of worker.metricNames) worker.values.set(name, this.extrapolated(worker, name, throughput))
    this.leasesOf.get(from)?.delete(observed)
    this.#leasesOf(worker.id).add(observed)
    this.throughputOf.set(worker.id, this.throughput(worker.id) + throughput)
    this.throughputOf.set(from, this.throughput(from) - throughput)
    this.moves.set(observed, worker.id)
    if (this.hasRoom(worker.id)) this.queue.push(worker)
  }
}

import { availableParallelism } from 'node:os'
import { ConfigurationError, booleanOption, durationOption, integerOption } from '@kinesis-ts/shared'
import type { LeaseStore } from '../leases/lease-store.js'
import { ExpiryTracker } from '../leases/lease-taker.js'
import type { Lease } from '../leases/lease.js'
import { runEvery } from '../loop.js'
import type { ItemTable, LeaderDecider, WorkerMetricStats } from './contracts.js'
import { CrashedWorkers } from './crashed-workers.js'
import {
  type AssignmentThresholds,
  type AssignmentWrite,
  DEFAULT_ASSIGNMENT_THRESHOLDS,
  type ObservedLease,
  actualOwner,
  planAssignments,
  writesFor,
} from './lease-assignment-decider.js'
import { activeWorkerMetrics, isWorkerMetricStatsStale } from './worker-metric-rules.js'
import type { WorkerMetricStatsStore } from './worker-metric-stats-store.js'

/** Java LeaseAssignmentManager.DEFAULT_FAILURE_COUNT_TO_SWITCH_LEADER. */
const FAILED_RUNS_BEFORE_RELEASING_LEADERSHIP = 3

/** Matches no worker id: the leader judges leases for the fleet, never as their owner. */
const NO_WORKER = '\u0000kcl3-leader'

/**
 * The expiry pass reads the metrics again when it has an expired or unassigned lease to move and its
 * copy is older than this: the copy from the last full run can predate every live worker's first report (a leader
 * that just started), which left a crashed worker's leases waiting up to a whole assignment interval.
 * The bound keeps a fleet with nobody to receive them at one metrics read a second, not one a pass.
 */
const EXPIRED_LEASES_METRICS_MAX_AGE_MILLIS = 1_000

export interface LeaseAssignmentManagerOptions extends Partial<AssignmentThresholds> {
  readonly leaseStore: LeaseStore
  readonly metricsStore: WorkerMetricStatsStore
  /** The layout's `workerMetricsRead`: where every worker's metrics item is read (and stale ones deleted). */
  readonly workerMetricsTables: readonly ItemTable[]
  readonly leader: LeaderDecider
  readonly failoverTimeMillis: number
  /** Java default 2 × failoverTimeMillis: full runs (both steps, on the Java cadence). */
  readonly leaseAssignmentIntervalMillis: number
  /**
   * kinesis-ts, beyond Java: between full runs, a step-1-only pass (expired and unassigned leases)
   * this often, so a crashed worker's leases move within about one interval of their expiry instead
   * of up to a whole leaseAssignmentIntervalMillis later. 0 turns it off (Java timing).
   */
  readonly leaseExpiryWatchIntervalMillis: number
  /** Java 30 000: metrics older than twice this are not a live worker's. */
  readonly workerMetricsReporterFreqInMillis: number
  /** Java 3: step 2 (variance balancing) every this many full runs, the first after taking leadership included. */
  readonly varianceBalancingFrequency?: number
  /** Java 30 000: how long the leader waits for an old owner's handoff (plus failoverTimeMillis). */
  readonly gracefulLeaseHandoffTimeoutMillis?: number
  /** Java true: move live leases by graceful handoff (checkpointOwner), not by plain assign. */
  readonly isGracefulLeaseHandoffEnabled?: boolean
  /** Assignment writes in flight at once (Java: a pool of one thread per processor). */
  readonly maxParallelAssignments?: number
  readonly onError: (error: unknown) => void
  /** Epoch ms, for metrics freshness; injectable for tests. */
  readonly now?: (() => number) | undefined
  readonly random?: (() => number) | undefined
}

interface Handoff {
  readonly leaseOwner: string | undefined
  readonly checkpointOwner: string
  readonly timeoutAt: number
}

/** Runs `task` on every item, at most `limit` at once; rejects with the first failure once all settled. */
async function inParallel<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const errors: unknown[] = []
  const lane = async () => {
    while (next < items.length) {
      const item = items[next++]!
      try {
        await task(item)
      } catch (error) {
        errors.push(error)
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane))
  if (errors.length > 0) throw errors[0]
}

/**
 * The KCL 3.x leader's loop (Java LeaseAssignmentManager): while this worker holds the leader lock,
 * scans leases and worker metrics, judges expiry from its own observation of each `leaseCounter`,
 * and writes the assignments the decider plans: a plain assign, or a graceful handoff for a live lease.
 */
export class LeaseAssignmentManager {
  readonly #o: LeaseAssignmentManagerOptions
  readonly #thresholds: AssignmentThresholds
  readonly #balancingEvery: number
  readonly #handoffTimeoutMs: number
  readonly #gracefulHandoff: boolean
  readonly #parallel: number
  #expiry: ExpiryTracker
  #handoffs = new Map<string, Handoff>()
  #leading = false
  #fullRuns = 0
  #failedRuns = 0
  #nextFullRunAt = 0
  #lastMetrics: readonly WorkerMetricStats[] = []
  #metricsLoadedAt = Number.NEGATIVE_INFINITY
  #crashed = new CrashedWorkers()
  /** When this worker, a follower of a fast leader, last timed the lease counters (monotonic ms). */
  #watchedAt: number | undefined

  constructor(options: LeaseAssignmentManagerOptions) {
    this.#o = options
    const percentage = (name: 'dampeningPercentage' | 'reBalanceThresholdPercentage') =>
      integerOption(name, options[name], DEFAULT_ASSIGNMENT_THRESHOLDS[name], 1, 100)
    const alpha = options.workerMetricsEMAAlpha ?? DEFAULT_ASSIGNMENT_THRESHOLDS.workerMetricsEMAAlpha
    if (typeof alpha !== 'number' || !(alpha > 0 && alpha <= 1)) {
      throw new ConfigurationError('workerMetricsEMAAlpha', 'a number in (0, 1]', alpha)
    }
    const maxThroughput = options.maxThroughputPerHostKBps ?? DEFAULT_ASSIGNMENT_THRESHOLDS.maxThroughputPerHostKBps
    if (typeof maxThroughput !== 'number' || !(maxThroughput > 0)) {
      throw new ConfigurationError('maxThroughputPerHostKBps', 'a positive number of KB/s', maxThroughput)
    }
    this.#thresholds = {
      maxLeasesForWorker: integerOption(
        'maxLeasesForWorker',
        options.maxLeasesForWorker,
        DEFAULT_ASSIGNMENT_THRESHOLDS.maxLeasesForWorker,
        1,
      ),
      maxThroughputPerHostKBps: maxThroughput,
      dampeningPercentage: percentage('dampeningPercentage'),
      reBalanceThresholdPercentage: percentage('reBalanceThresholdPercentage'),
      allowThroughputOvershoot: booleanOption(
        'allowThroughputOvershoot',
        options.allowThroughputOvershoot,
        DEFAULT_ASSIGNMENT_THRESHOLDS.allowThroughputOvershoot,
      ),
      workerMetricsEMAAlpha: alpha,
    }
    durationOption('failoverTimeMillis', options.failoverTimeMillis, 0, 1)
    durationOption('leaseAssignmentIntervalMillis', options.leaseAssignmentIntervalMillis, 0, 1)
    durationOption('leaseExpiryWatchIntervalMillis', options.leaseExpiryWatchIntervalMillis, 0, 0)
    durationOption('workerMetricsReporterFreqInMillis', options.workerMetricsReporterFreqInMillis, 0, 1)
    this.#balancingEvery = integerOption('varianceBalancingFrequency', options.varianceBalancingFrequency, 3, 1)
    this.#handoffTimeoutMs = durationOption(
      'gracefulLeaseHandoffTimeoutMillis',
      options.gracefulLeaseHandoffTimeoutMillis,
      30_000,
      0,
    )
    this.#gracefulHandoff = booleanOption('isGracefulLeaseHandoffEnabled', options.isGracefulLeaseHandoffEnabled, true)
    this.#parallel = integerOption('maxParallelAssignments', options.maxParallelAssignments, availableParallelism(), 1)
    this.#expiry = new ExpiryTracker(options.failoverTimeMillis)
  }

  /** Runs until `signal` aborts; resolves once stopped, with no timer left behind. */
  async run(signal: AbortSignal): Promise<void> {
    const { leaseExpiryWatchIntervalMillis: watch, leaseAssignmentIntervalMillis: full } = this.#o
    const tick = watch > 0 ? Math.min(watch, full) : full
    await runEvery(tick, signal, () => this.runOnce(signal), this.#o.onError)
  }

  /**
   * One tick: a full run when one is due, else the expiry pass. Public so tests and the worker's
   * start-up can drive it. A failed run is counted (3 in a row release the lock) and rethrown.
   */
  async runOnce(signal: AbortSignal): Promise<void> {
    try {
      if (!(await this.#o.leader.isLeader(signal))) {
        this.#leading = false
        // A failed watch is no failed leader run (see #watchAsFollower).
        if (this.#o.leader.followsFastLeader === true) await this.#watchAsFollower(signal)
        return
      }
      if (!this.#leading) this.#takeOver()
      const started = performance.now()
      const fullRun = this.#o.leaseExpiryWatchIntervalMillis <= 0 || started >= this.#nextFullRunAt
      if (fullRun) this.#nextFullRunAt = started + this.#o.leaseAssignmentIntervalMillis
      await this.#assign(fullRun, signal)
      this.#failedRuns = 0
    } catch (error) {
      if (signal.aborted) throw error
      if (++this.#failedRuns >= FAILED_RUNS_BEFORE_RELEASING_LEADERSHIP) {
        this.#failedRuns = 0
        this.#leading = false
        await this.#o.leader.releaseLeadershipIfHeld?.(signal).catch(this.#o.onError)
      }
      throw error
    }
  }

  /**
   * A new leader starts with no memory (Java prepareAfterLeaderSwitch): owned leases expire only after
   * its own failover wait. Unless it watched the counters as a follower until now: those observations
   * are its own, on its own clock, so a counter that stood still through them for failoverTimeMillis
   * is expired by the very rule a leader applies, and a live owner's moving counters never are.
   */
  #takeOver(): void {
    this.#leading = true
    this.#fullRuns = 0
    this.#failedRuns = 0
    this.#nextFullRunAt = 0
    this.#crashed = new CrashedWorkers()
    const watchedAt = this.#watchedAt
    this.#watchedAt = undefined
    // A gap in the watch is harmless (an unchanged counter stood still through it too), but a long
    // one could hide a lease deleted and created again: past failoverTimeMillis, start afresh.
    if (watchedAt !== undefined && performance.now() - watchedAt <= this.#o.failoverTimeMillis) return
    this.#expiry = new ExpiryTracker(this.#o.failoverTimeMillis)
    this.#handoffs = new Map()
  }

  /**
   * Issue 17: a follower of a fast (TypeScript) leader times the lease counters as a leader does
   * (one eventually consistent scan per tick), so that on taking over from a crashed leader it can
   * assign that leader's leases at once instead of after another failoverTimeMillis. A failed scan is
   * logged, never counted towards releasing a lock this worker does not hold.
   */
  async #watchAsFollower(signal: AbortSignal): Promise<void> {
    let leases: Lease[]
    try {
      leases = await this.#o.leaseStore.listLeases(signal, { consistent: false })
    } catch (error) {
      if (!signal.aborted) this.#o.onError(error)
      return
    }
    const now = performance.now()
    this.#observe(leases, now)
    this.#watchedAt = now
  }

  async #assign(fullRun: boolean, signal: AbortSignal): Promise<void> {
    const [leases, loaded] = await Promise.all([
      this.#o.leaseStore.listLeases(signal, { consistent: false }),
      fullRun ? this.#loadMetrics(signal) : undefined,
    ])
    const now = performance.now()
    const observed = this.#observe(leases, now)
    const metrics =
      loaded ?? (this.#metricsTooOldFor(observed, now) ? await this.#loadMetrics(signal) : this.#lastMetrics)
    const balance = fullRun && this.#fullRuns++ % this.#balancingEvery === 0
    const moves = planAssignments({
      leases: observed,
      workers: this.#crashed.live(
        activeWorkerMetrics(metrics, (this.#o.now ?? Date.now)(), this.#o.workerMetricsReporterFreqInMillis),
        observed,
      ),
      balance,
      thresholds: this.#thresholds,
      random: this.#o.random,
    })
    const writes = writesFor(moves, now, this.#gracefulHandoff)
    await inParallel(writes, this.#parallel, (write) => this.#write(write, signal))
  }

  /**
   * An expired or unassigned lease (one evicted by a worker that shut down before its peers reported)
   * waits on the expiry pass; metrics read before the fleet reported would find it no receiver.
   */
  #metricsTooOldFor(observed: readonly ObservedLease[], now: number): boolean {
    return (
      now - this.#metricsLoadedAt >= EXPIRED_LEASES_METRICS_MAX_AGE_MILLIS &&
      observed.some((o) => o.expired || actualOwner(o.lease) === undefined)
    )
  }

  /** Every read table's items; stale ones deleted on the way (Java: after each load). */
  async #loadMetrics(signal: AbortSignal): Promise<readonly WorkerMetricStats[]> {
    const all: WorkerMetricStats[] = []
    const now = (this.#o.now ?? Date.now)()
    for (const table of this.#o.workerMetricsTables) {
      const items = await this.#o.metricsStore.listTable(table, signal)
      all.push(...items)
      for (const stale of items.filter((stats) => isWorkerMetricStatsStale(stats, now))) {
        await this.#o.metricsStore.deleteStale(table, stale, signal).catch(this.#o.onError)
      }
    }
    this.#lastMetrics = all
    this.#metricsLoadedAt = performance.now()
    return all
  }

  /** Java updateLeasesLastCounterIncrementNanosAndLeaseShutdownTimeout, on our ExpiryTracker. */
  #observe(leases: readonly Lease[], now: number): ObservedLease[] {
    const free = this.#expiry.observe(leases, now, NO_WORKER, new Set())
    const handoffs = new Map<string, Handoff>()
    const out = leases.map((lease): ObservedLease => {
      const unassigned = actualOwner(lease) === undefined
      let handoffTimeoutAt: number | undefined
      if (lease.checkpointOwner !== undefined) {
        const known = this.#handoffs.get(lease.leaseKey)
        const same = known?.leaseOwner === lease.leaseOwner && known?.checkpointOwner === lease.checkpointOwner
        handoffTimeoutAt = same ? known!.timeoutAt : now + this.#handoffTimeoutMs + this.#o.failoverTimeMillis
        handoffs.set(lease.leaseKey, {
          leaseOwner: lease.leaseOwner,
          checkpointOwner: lease.checkpointOwner,
          timeoutAt: handoffTimeoutAt,
        })
      }
      return {
        lease,
        expired: !unassigned && free.has(lease.leaseKey),
        lastCounterChangeAt: unassigned ? 0 : (this.#expiry.lastChangeAt(lease.leaseKey) ?? now),
        handoffTimeoutAt,
      }
    })
    this.#handoffs = handoffs
    return out
  }

  async #write(write: AssignmentWrite, signal: AbortSignal): Promise<void> {
    const store = this.#o.leaseStore
    if (write.kind === 'handoff') {
      const started = await store.initiateHandoff(write.lease, write.toWorker, signal)
      if (started?.checkpointOwner !== undefined) {
        // The wait starts now (Java sets checkpointOwnerTimeoutTimestampMillis on success).
        this.#handoffs.set(started.leaseKey, {
          leaseOwner: started.leaseOwner,
          checkpointOwner: started.checkpointOwner,
          timeoutAt: performance.now() + this.#handoffTimeoutMs + this.#o.failoverTimeMillis,
        })
      }
      return
    }
    const assigned = await store.assign(write.lease, write.toWorker, signal)
    if (assigned !== undefined) this.#expiry.noteCounter(assigned.leaseKey, assigned.leaseCounter, performance.now())
  }
}

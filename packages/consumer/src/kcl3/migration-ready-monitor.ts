import type { LeaderDecider, WorkerMetricStats, WorkerMetricStatsReader } from './contracts.js'
import type { CoordinatorStateStore } from './coordinator-state-store.js'
import { type MigrationState, changeClientVersion, readMigrationState } from './migration-state.js'
import { StoppableLoop } from './periodic.js'

/** Java MigrationReadyMonitor MONITOR_INTERVAL_MILLIS and Scheduler flipTo3XStabilizerTimeInSeconds. */
export const MIGRATION_READY_INTERVAL_MS = 60_000
export const MIGRATION_READY_STABILIZATION_MS = 600_000
export const DEFAULT_WORKER_METRICS_REPORTER_FREQ_MS = 30_000

/**
 * Java MigrationReadyMonitor: an item is active while lut + 2 × reporter period > now, all in whole
 * seconds. The leader's assignment uses its own spelling of the rule (worker-metric-rules.ts
 * isWorkerMetricStatsExpired, from Duration.between); the two differ only within a second of the edge.
 */
export function isWorkerMetricStatsActive(stats: WorkerMetricStats, nowMs: number, reporterFreqMs: number): boolean {
  const expirySeconds = Math.floor((2 * reporterFreqMs) / 1000)
  return stats.lastUpdateTimeSeconds + expirySeconds > Math.floor(nowMs / 1000)
}

/**
 * Java's readiness for the flip to 3.x: the GSI is ACTIVE and every distinct lease owner has active
 * metrics. As in Java (a set of `leaseOwner` that keeps null), an unowned lease counts as an owner
 * without metrics: the flip waits until every lease is owned. Expired leases count too, so an owner
 * that crashed blocks the flip until its leases have moved.
 */
export function isReadyForUpgradeTo3x(
  gsiActive: boolean,
  leaseOwners: readonly (string | undefined)[],
  metrics: readonly WorkerMetricStats[],
  nowMs: number,
  reporterFreqMs: number,
): boolean {
  if (!gsiActive) return false
  const active = new Set(
    metrics.filter((stats) => isWorkerMetricStatsActive(stats, nowMs, reporterFreqMs)).map((stats) => stats.workerId),
  )
  return leaseOwners.every((owner) => owner !== undefined && active.has(owner))
}

export interface MigrationReadyMonitorOptions {
  readonly store: CoordinatorStateStore
  readonly leaderDecider: LeaderDecider
  readonly workerMetrics: WorkerMetricStatsReader
  /** Every lease (expired included); only their owners are used. */
  readonly listLeases: (signal: AbortSignal) => Promise<readonly { readonly leaseOwner?: string | undefined }[]>
  readonly isLeaseOwnerIndexActive: (signal: AbortSignal) => Promise<boolean>
  /** Written as `mb` of the flip. */
  readonly workerId: string
  /** `workerMetricsReporterFreqInMillis` (30 000). */
  readonly workerMetricsReporterFreqInMillis?: number
  /** Told once, after this worker flipped the item to CLIENT_VERSION_3X_WITH_ROLLBACK. */
  readonly onFlipped: (state: MigrationState) => void | Promise<void>
  readonly onError?: (error: unknown) => void
  readonly intervalMs?: number
  readonly stabilizationMs?: number
  /** Wall clock (epoch ms) for `lut` and `mts`; a monotonic one times the stabilisation. */
  readonly nowMs?: () => number
  readonly monotonicMs?: () => number
}

export type MigrationReadyCheck = 'not-leader' | 'not-ready' | 'stabilizing' | 'flipped' | 'already-moved'

/**
 * Runs on every worker in UPGRADE_FROM_2X and acts only while it is the leader: once the fleet has
 * been ready for the stabilisation time without a break, it moves the item UPGRADE_FROM_2X →
 * CLIENT_VERSION_3X_WITH_ROLLBACK, conditional on the old version, and stops.
 */
export class MigrationReadyMonitor {
  readonly #options: MigrationReadyMonitorOptions
  readonly #nowMs: () => number
  readonly #monotonicMs: () => number
  #readySince: number | undefined
  readonly #loop = new StoppableLoop()

  constructor(options: MigrationReadyMonitorOptions) {
    this.#options = options
    this.#nowMs = options.nowMs ?? Date.now
    this.#monotonicMs = options.monotonicMs ?? (() => performance.now())
  }

  /** The first check one interval after start, as Java. Ends on stop(), `signal`, or after the flip. */
  start(signal?: AbortSignal): void {
    const intervalMs = this.#options.intervalMs ?? MIGRATION_READY_INTERVAL_MS
    const task = async (loopSignal: AbortSignal, end: () => void) => {
      const outcome = await this.check(loopSignal)
      if (outcome === 'flipped' || outcome === 'already-moved') end()
    }
    this.#loop.start({ initialDelayMs: intervalMs, intervalMs }, signal, task, this.#options.onError ?? (() => {}))
  }

  async stop(): Promise<void> {
    await this.#loop.stop()
  }

  /** One run of the Java monitor. */
  async check(signal: AbortSignal): Promise<MigrationReadyCheck> {
    const o = this.#options
    if (!(await o.leaderDecider.isLeader(signal))) {
      this.#readySince = undefined
      return 'not-leader'
    }
    // Not ready while the GSI is missing: Java skips the scans then.
    const gsiActive = await o.isLeaseOwnerIndexActive(signal)
    const [leases, metrics] = gsiActive
      ? await Promise.all([o.listLeases(signal), o.workerMetrics.list(signal)])
      : [[], []]
    const freq = o.workerMetricsReporterFreqInMillis ?? DEFAULT_WORKER_METRICS_REPORTER_FREQ_MS
    const owners = leases.map((lease) => lease.leaseOwner)
    if (!isReadyForUpgradeTo3x(gsiActive, owners, metrics, this.#nowMs(), freq)) {
      this.#readySince = undefined
      return 'not-ready'
    }
    this.#readySince ??= this.#monotonicMs()
    if (this.#monotonicMs() - this.#readySince < (o.stabilizationMs ?? MIGRATION_READY_STABILIZATION_MS)) {
      return 'stabilizing'
    }
    const state = await readMigrationState(o.store, signal)
    if (state?.clientVersion !== 'CLIENT_VERSION_UPGRADE_FROM_2X') return 'already-moved'
    const flipped = await changeClientVersion({
      store: o.store,
      from: state,
      to: 'CLIENT_VERSION_3X_WITH_ROLLBACK',
      modifiedBy: o.workerId,
      nowMs: this.#nowMs(),
      signal,
    })
    if (flipped === undefined) return 'already-moved'
    await o.onFlipped(flipped)
    return 'flipped'
  }
}

import type { WorkerMetricStats } from './contracts.js'
import { STALE_WORKER_METRICS_CLEANUP_MS } from './worker-metric-stats-store.js'

/*
 * The leader's judgement of WorkerMetricStats items (J/worker/metricstats/WorkerMetricStats.java,
 * J/coordinator/assignment/MigrationAwareLAMDataManager.java). Times are epoch milliseconds.
 */

/** The Java metric name that also marks the default metric (WorkerMetricType.THROUGHPUT.name()). */
const THROUGHPUT_METRIC_NAME = 'THROUGHPUT'

/** Java isUsingDefaultWorkerMetric: no explicit metric, so the leader balances by throughput. */
export function isUsingDefaultWorkerMetric(stats: WorkerMetricStats): boolean {
  const names = Object.keys(stats.metricStats)
  if (names.length === 0 && Object.keys(stats.operatingRange).length === 0) return true
  return names.includes(THROUGHPUT_METRIC_NAME)
}

/**
 * Java isValidWorkerMetric: `lut` present; unless default, both maps present, every `sts` metric
 * has an `opr` entry and no `opr` entry is empty or starts with 0.
 */
export function isValidWorkerMetricStats(stats: WorkerMetricStats): boolean {
  if (!Number.isFinite(stats.lastUpdateTimeSeconds)) return false
  if (isUsingDefaultWorkerMetric(stats)) return true
  if (stats.lacksMetricMaps === true) return false
  for (const name of Object.keys(stats.metricStats)) if (!(name in stats.operatingRange)) return false
  for (const range of Object.values(stats.operatingRange)) if (range.length === 0 || range[0] === 0) return false
  return true
}

/** Java isAnyWorkerMetricFailing: some metric's last report is −1 (capture failed); never for the default metric. */
export function isWorkerMetricFailing(stats: WorkerMetricStats): boolean {
  if (isUsingDefaultWorkerMetric(stats)) return false
  return Object.values(stats.metricStats).some((values) => values.length > 0 && values.at(-1) === -1)
}

/** Whole seconds between `lut` and now, as Java's Duration.between(ofEpochSecond(lut), now). */
function ageMs(stats: WorkerMetricStats, nowMs: number): number {
  return nowMs - stats.lastUpdateTimeSeconds * 1000
}

/** Java isExpired(2 × workerMetricsReporterFreqInMillis): the worker has stopped reporting. */
export function isWorkerMetricStatsExpired(stats: WorkerMetricStats, nowMs: number, reporterFreqMs: number): boolean {
  return !Number.isFinite(stats.lastUpdateTimeSeconds) || ageMs(stats, nowMs) > 2 * reporterFreqMs
}

/** Java isStale(staleWorkerMetricsEntryCleanupDuration): the leader deletes the item. */
export function isWorkerMetricStatsStale(
  stats: WorkerMetricStats,
  nowMs: number,
  cleanupAfterMs: number = STALE_WORKER_METRICS_CLEANUP_MS,
): boolean {
  return !Number.isFinite(stats.lastUpdateTimeSeconds) || ageMs(stats, nowMs) > cleanupAfterMs
}

/**
 * The workers that may give and receive leases: valid, not expired, not failing (the Java LAM's
 * snapshot filter, then InMemoryStorageView's failing filter). One entry per worker: during a table
 * migration a worker can have an item in each table, and Java would count it twice; we keep the
 * newest report.
 */
export function activeWorkerMetrics(
  all: readonly WorkerMetricStats[],
  nowMs: number,
  reporterFreqMs: number,
): WorkerMetricStats[] {
  const newest = new Map<string, WorkerMetricStats>()
  for (const stats of all) {
    if (!isValidWorkerMetricStats(stats) || isWorkerMetricStatsExpired(stats, nowMs, reporterFreqMs)) continue
    const seen = newest.get(stats.workerId)
    if (seen === undefined || seen.lastUpdateTimeSeconds < stats.lastUpdateTimeSeconds) {
      newest.set(stats.workerId, stats)
    }
  }
  return [...newest.values()].filter((stats) => !isWorkerMetricFailing(stats))
}

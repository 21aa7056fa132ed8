import { availableParallelism } from 'node:os'
import { durationOption, integerOption } from '@kinesis-ts/shared'
import { pause, runEvery } from '../loop.js'
import type { CoordinatorLayout, WorkerMetricStats } from './contracts.js'

/** One measured resource, as a Java `WorkerMetric`: a short name, its operating range, a capture. */
export interface WorkerMetric {
  /** `C` CPU, `M` memory, `NI` / `NO` network (J/worker/metric/WorkerMetricType.java). */
  readonly shortName: string
  /** The first `opr` value: the utilization the leader must not push this worker above. */
  readonly maxUtilization: number
  /** The current value; throws when it cannot be measured (that report then says −1). */
  capture(): number
}

/**
 * CPU utilization of this process, in percent of the cores it may use. Java publishes a CPU metric
 * only on EC2/ECS/EKS (J/worker/WorkerMetricsSelector.java) and the default metric elsewhere; we
 * publish this one on any host because balancing by throughput alone cannot see a worker made busy
 * by its processor (the issue asks for CPU from `os`/`process`). Process, not host: what moving a
 * lease away relieves is this worker's own load, which is also what Java's container variants
 * (cgroup, ECS task stats) measure; a host busy with other programs must not make us shed leases.
 * The operating range is 100, as Java's CPU metrics default to.
 */
export function processCpuMetric(cores: number = availableParallelism()): WorkerMetric {
  let last = { usage: process.cpuUsage(), at: performance.now() }
  return {
    shortName: 'C',
    maxUtilization: 100,
    capture() {
      const now = { usage: process.cpuUsage(), at: performance.now() }
      const cpuMicros = now.usage.user - last.usage.user + (now.usage.system - last.usage.system)
      const wallMicros = (now.at - last.at) * 1000
      last = now
      if (wallMicros <= 0) throw new Error('no time passed since the last CPU sample')
      return Math.min(100, Math.max(0, (cpuMicros / (wallMicros * cores)) * 100))
    },
  }
}

/**
 * `sup` is a promise to follow the 3.4 → 3.5 table migration rules (kcl3-protocol §10). In the
 * single-table layout there is nothing left to migrate, so the promise is kept by construction (and
 * Java 3.5 writes it there too); in the legacy layout this worker does not move its items, so it
 * writes no `sup`, which keeps the fleet safely in the legacy layout.
 */
export function supportCodeFor(layout: Pick<CoordinatorLayout, 'kind'>): number | undefined {
  return layout.kind === 'single' ? 1 : undefined
}

/** Rounded as Java's WorkerMetricStatsManager rounds each report average (6 decimals, half up). */
export function roundTo6(value: number): number {
  return Math.round(value * 1e6) / 1e6
}

/**
 * The Java cadence (LeaseManagementConfig.WorkerUtilizationAwareAssignmentConfig): a report every
 * 30 s at a fixed rate, the first 2 × the capture period after start
 * (J/coordinator/DynamicMigrationComponentsInitializer.java), the last 10 averages kept.
 */
export const JAVA_WORKER_METRICS_CADENCE = Object.freeze({
  workerMetricsReporterFreqInMillis: 30_000,
  inMemoryWorkerMetricsCaptureFrequencyMillis: 1_000,
  noOfPersistedMetricsPerWorkerMetrics: 10,
  firstReportDelayMillis: 2_000,
})

export interface WorkerMetricsReporterOptions {
  readonly workerId: string
  readonly store: { write(stats: WorkerMetricStats, signal?: AbortSignal): Promise<void> }
  /** Empty: the Java "default metric" (empty `sts` and `opr`; the leader balances by throughput). */
  readonly metrics: readonly WorkerMetric[]
  /** Java `workerMetricsReporterFreqInMillis`, 30 000. */
  readonly workerMetricsReporterFreqInMillis: number
  /** Java `inMemoryWorkerMetricsCaptureFrequencyMillis`, 1 000. */
  readonly inMemoryWorkerMetricsCaptureFrequencyMillis: number
  /** Java `noOfPersistedMetricsPerWorkerMetrics`, 10. */
  readonly noOfPersistedMetricsPerWorkerMetrics: number
  /** Delay of the first report (Java: 2 × inMemoryWorkerMetricsCaptureFrequencyMillis after start). */
  readonly firstReportDelayMillis: number
  /** `sup` to write with its `slu` heartbeat; see supportCodeFor. Absent: neither is written. */
  readonly supportCode?: number | undefined
  readonly onError: (error: unknown) => void
  /** Epoch milliseconds; injectable for tests. */
  readonly now?: (() => number) | undefined
}

/**
 * Publishes this worker's `WorkerMetricStats` item on the Java cadence: samples every metric each
 * capture period, and each report appends the average of the samples since the last report (−1
 * when none could be taken) to that metric's last `noOfPersistedMetricsPerWorkerMetrics` values.
 */
export class WorkerMetricsReporter {
  readonly #options: WorkerMetricsReporterOptions
  readonly #samples = new Map<string, number[]>()
  readonly #reports = new Map<string, number[]>()

  constructor(options: WorkerMetricsReporterOptions) {
    durationOption('workerMetricsReporterFreqInMillis', options.workerMetricsReporterFreqInMillis, 0, 1)
    durationOption(
      'inMemoryWorkerMetricsCaptureFrequencyMillis',
      options.inMemoryWorkerMetricsCaptureFrequencyMillis,
      0,
      1,
    )
    integerOption('noOfPersistedMetricsPerWorkerMetrics', options.noOfPersistedMetricsPerWorkerMetrics, 0, 1)
    durationOption('firstReportDelayMillis', options.firstReportDelayMillis, 0, 0)
    this.#options = options
    for (const metric of options.metrics) {
      this.#samples.set(metric.shortName, [])
      this.#reports.set(metric.shortName, [])
    }
  }

  /** Runs both loops until `signal` aborts; resolves once they stopped, with no timer left. */
  async run(signal: AbortSignal): Promise<void> {
    const { inMemoryWorkerMetricsCaptureFrequencyMillis: captureEvery, onError } = this.#options
    const sampling =
      this.#options.metrics.length === 0
        ? Promise.resolve()
        : runEvery(captureEvery, signal, async () => this.sample(), onError)
    const reporting = (async () => {
      if (!(await pause(this.#options.firstReportDelayMillis, signal))) return
      await runEvery(this.#options.workerMetricsReporterFreqInMillis, signal, () => this.report(signal), onError)
    })()
    await Promise.all([sampling, reporting])
  }

  /** Takes one sample of every metric; a failed capture is simply missing (Java logs it). */
  sample(): void {
    for (const metric of this.#options.metrics) {
      try {
        const value = metric.capture()
        if (Number.isFinite(value)) this.#samples.get(metric.shortName)!.push(value)
      } catch {
        // Counted at report time: no sample in a whole period reports −1, which the leader reads as failing.
      }
    }
  }

  /** The item the next report writes, draining the samples taken since the previous one. */
  nextReport(): WorkerMetricStats {
    const { workerId, metrics, noOfPersistedMetricsPerWorkerMetrics: keep, supportCode } = this.#options
    const metricStats: Record<string, number[]> = {}
    const operatingRange: Record<string, number[]> = {}
    for (const metric of metrics) {
      const samples = this.#samples.get(metric.shortName)!.splice(0)
      const reports = this.#reports.get(metric.shortName)!
      reports.push(samples.length === 0 ? -1 : roundTo6(samples.reduce((a, b) => a + b, 0) / samples.length))
      if (reports.length > keep) reports.splice(0, reports.length - keep)
      metricStats[metric.shortName] = [...reports]
      operatingRange[metric.shortName] = [metric.maxUtilization]
    }
    const seconds = Math.floor((this.#options.now ?? Date.now)() / 1000)
    return {
      workerId,
      lastUpdateTimeSeconds: seconds,
      metricStats,
      operatingRange,
      ...(supportCode === undefined ? {} : { supportCode, supportLastUpdateTimeSeconds: seconds }),
    }
  }

  async report(signal?: AbortSignal): Promise<void> {
    await this.#options.store.write(this.nextReport(), signal)
  }
}

import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import type { Logger } from '@kinesis-ts/shared'
import type { ResolvedConsumerConfig } from '../config-types.js'
import type { LeaseStore } from '../leases/lease-store.js'
import type { CoordinatorLayout, LeaderDecider } from './contracts.js'
import type { CoordinatorStateStore } from './coordinator-state-store.js'
import type { Kcl3ModeSeams } from './kcl3-mode-seams.js'
import { LeaseAssignmentManager } from './lease-assignment-manager.js'
import { isLeaseOwnerIndexActive } from './lease-owner-index.js'
import { MigrationReadyMonitor } from './migration-ready-monitor.js'
import type { MigrationState } from './migration-state.js'
import { ShuffleLeader2x } from './shuffle-leader-2x.js'
import type { WorkerMetricStatsStore } from './worker-metric-stats-store.js'
import {
  JAVA_WORKER_METRICS_CADENCE,
  WorkerMetricsReporter,
  processCpuMetric,
  supportCodeFor,
} from './worker-metrics-reporter.js'

/*
 * The KCL 3.x components a consumer runs, built from its resolved options (the Java names) and the
 * layout fixed at start-up, so kcl3-mode.ts only decides which run when.
 */

export interface Kcl3ComponentContext {
  readonly config: ResolvedConsumerConfig
  readonly dynamodb: DynamoDBClient
  readonly leaseStore: LeaseStore
  readonly seams: Kcl3ModeSeams
  readonly logger: Logger
  readonly layout: CoordinatorLayout
  readonly coordinatorState: CoordinatorStateStore
  readonly metrics: WorkerMetricStatsStore
}

/** This worker's WorkerMetricStats on the Java cadence; the metric is this process's CPU unless a test seam says otherwise. */
export function workerMetricsReporterFor(c: Kcl3ComponentContext): WorkerMetricsReporter {
  const { config, seams, logger } = c
  return new WorkerMetricsReporter({
    workerId: config.workerId,
    store: c.metrics,
    metrics: seams.workerMetrics ?? [processCpuMetric()],
    workerMetricsReporterFreqInMillis: config.workerMetricsReporterFreqInMillis,
    inMemoryWorkerMetricsCaptureFrequencyMillis:
      JAVA_WORKER_METRICS_CADENCE.inMemoryWorkerMetricsCaptureFrequencyMillis,
    noOfPersistedMetricsPerWorkerMetrics: JAVA_WORKER_METRICS_CADENCE.noOfPersistedMetricsPerWorkerMetrics,
    firstReportDelayMillis: JAVA_WORKER_METRICS_CADENCE.firstReportDelayMillis,
    supportCode: supportCodeFor(c.layout),
    onError: (error) => logger.warn({ err: error }, 'worker metrics report failed'),
  })
}

/** The leader's assignment loop with the consumer's thresholds; it acts only while `leader` says so. */
export function leaseAssignmentManagerFor(c: Kcl3ComponentContext, leader: LeaderDecider): LeaseAssignmentManager {
  const { config, logger } = c
  return new LeaseAssignmentManager({
    leaseStore: c.leaseStore,
    metricsStore: c.metrics,
    workerMetricsTables: c.layout.workerMetricsRead,
    leader,
    failoverTimeMillis: config.failoverTimeMillis,
    leaseAssignmentIntervalMillis: config.leaseAssignmentIntervalMillis,
    leaseExpiryWatchIntervalMillis: config.leaseExpiryWatchIntervalMillis,
    workerMetricsReporterFreqInMillis: config.workerMetricsReporterFreqInMillis,
    varianceBalancingFrequency: config.varianceBalancingFrequency,
    gracefulLeaseHandoffTimeoutMillis: config.gracefulLeaseHandoffTimeoutMillis,
    maxLeasesForWorker: config.maxLeasesForWorker,
    maxThroughputPerHostKBps: config.maxThroughputPerHostKBps,
    dampeningPercentage: config.dampeningPercentage,
    reBalanceThresholdPercentage: config.reBalanceThresholdPercentage,
    allowThroughputOvershoot: config.allowThroughputOvershoot,
    workerMetricsEMAAlpha: config.workerMetricsEMAAlpha,
    onError: (error) => logger.warn({ err: error }, 'lease assignment run failed'),
  })
}

/** UPGRADE_FROM_2X: the readiness monitor, acting on the worker the 2.x shuffle elects. */
export function migrationReadyMonitorFor(
  c: Kcl3ComponentContext,
  onFlipped: (state: MigrationState) => void,
): MigrationReadyMonitor {
  const { config, dynamodb, leaseStore, seams, logger } = c
  const listLeases = (signal: AbortSignal) => leaseStore.listLeases(signal, { consistent: false })
  return new MigrationReadyMonitor({
    store: c.coordinatorState,
    leaderDecider: new ShuffleLeader2x({
      workerId: config.workerId,
      listLeaseOwners: async (signal) => (await listLeases(signal)).map((lease) => lease.leaseOwner),
      electionIntervalMs: seams.shuffleLeaderElectionIntervalMs,
    }),
    workerMetrics: c.metrics,
    listLeases,
    isLeaseOwnerIndexActive: (signal) =>
      isLeaseOwnerIndexActive(dynamodb, config.tableName, config.dynamoDbRequestTimeoutMillis, signal),
    workerId: config.workerId,
    workerMetricsReporterFreqInMillis: config.workerMetricsReporterFreqInMillis,
    onFlipped,
    onError: (error) => logger.warn({ err: error }, 'migration readiness check failed'),
    intervalMs: seams.migrationReadyIntervalMs,
    stabilizationMs: seams.migrationStabilizationMs,
  })
}

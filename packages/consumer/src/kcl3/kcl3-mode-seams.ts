import type { WorkerMetric } from './worker-metrics-reporter.js'

/**
 * Test seams of the KCL 3.x mode: the fixed Java intervals (a 60 s monitor, a 600 s stabilisation)
 * would make a migration test take a quarter of an hour, and the CPU metric of one test process is
 * shared by every worker in it. Not public options: set them on the options object under this key;
 * `@kinesis-ts/consumer/internals` exports it.
 */
export const KCL3_MODE_SEAMS: unique symbol = Symbol.for('kinesis-ts.consumer.kcl3-mode-seams')

export interface Kcl3ModeSeams {
  /** The metrics published (default: this process's CPU). Empty: the Java "default metric". */
  readonly workerMetrics?: readonly WorkerMetric[]
  /** MigrationReadyMonitor run interval (Java 60 000). */
  readonly migrationReadyIntervalMs?: number
  /** Readiness held this long before the flip (Java 600 000). */
  readonly migrationStabilizationMs?: number
  /** ClientVersionChangeMonitor interval and first delay (Java 60 000, first after 60–90 s). */
  readonly clientVersionMonitorIntervalMs?: number
  /** How often the 2.x leader is elected again (Java 300 000). */
  readonly shuffleLeaderElectionIntervalMs?: number
}

export function kcl3ModeSeamsOf(options: object): Kcl3ModeSeams {
  const value = (options as { [KCL3_MODE_SEAMS]?: unknown })[KCL3_MODE_SEAMS]
  return typeof value === 'object' && value !== null ? (value as Kcl3ModeSeams) : {}
}

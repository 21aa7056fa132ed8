import type { ResolvedConsumerConfig } from '../config-types.js'
import { CONSUMER_DEFAULTS as D } from '../defaults.js'
import type { WorkerMetricStatsReader } from './contracts.js'

/**
 * The internal switch that runs a consumer as a KCL 3.x worker (discovery and handoffs instead of the
 * 2.x taker). Not a public option: until the leader and the worker metrics are wired in, a fleet of
 * such workers only works beside a leader that assigns leases (a Java one, or the tests'). Set it on
 * the options object under this key; `@kinesis-ts/consumer/internals` exports it.
 */
export const KCL3_WORKER_MODE: unique symbol = Symbol.for('kinesis-ts.consumer.kcl3-worker-mode')

export interface Kcl3WorkerSwitch {
  /** Whose WorkerMetricStats say which peers are live (graceful shutdown gives leases to them). */
  readonly workerMetrics?: WorkerMetricStatsReader
}

export function kcl3WorkerSwitchOf(options: object): Kcl3WorkerSwitch | undefined {
  const value = (options as { [KCL3_WORKER_MODE]?: unknown })[KCL3_WORKER_MODE]
  return typeof value === 'object' && value !== null ? (value as Kcl3WorkerSwitch) : undefined
}

/** Bounds of the discovery cadence (see discoveryIntervalOf). */
const MIN_DISCOVERY_MILLIS = 100
const MAX_DISCOVERY_MILLIS = 1_000

/**
 * How often a 3.x worker looks for leases assigned to it. Java: leaseAssignmentIntervalMillis / 2 − 25
 * (9 975 ms), which alone would break the failover targets (graceful < 2 s: the old owner's assign is
 * found one discovery later). Here failoverTimeMillis / 10, within [100, 1 000] ms and never slower
 * than Java: 1 s at the defaults. Cost at 1 s: one KEYS_ONLY GSI Query per worker per second that
 * finds nothing new — 0.5 read request unit each (eventually consistent, < 4 KB) — so 3 600 queries
 * and 1 800 RRU per worker-hour, about $0.00023 per worker-hour on demand ($0.125 per million RRU),
 * against 180 for Java's cadence; a GetItem per lease newly assigned. Without the GSI (a 2.x table)
 * it is a Scan: 0.5 RRU per 4 KB of table per second.
 */
export function discoveryIntervalOf(config: ResolvedConsumerConfig): number {
  const java = Math.floor(config.leaseAssignmentIntervalMillis / 2) - D.epsilonMillis
  const target = Math.floor(config.failoverTimeMillis / 10)
  return Math.max(MIN_DISCOVERY_MILLIS, Math.min(MAX_DISCOVERY_MILLIS, target, java))
}

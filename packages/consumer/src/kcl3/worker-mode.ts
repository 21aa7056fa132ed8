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
 * How often a 3.x worker looks for leases assigned to it (and notices held ones the leader moved).
 * Java: leaseAssignmentIntervalMillis / 2 − 25 (9 975 ms), which alone breaks the graceful target
 * (< 2 s): a handoff is seen by the old owner one discovery (or renewal) after the leader's write, and
 * its assign by the new owner one discovery later. Here failoverTimeMillis / leaseExpiryWatchDivisor
 * (20) — the 2.x expiry watch's cadence — within [100, 1 000] ms and never slower than Java: 500 ms at
 * the defaults, so the two discoveries of a handoff take 1 s at worst. Cost: one KEYS_ONLY GSI Query
 * per worker per interval, 0.5 read request unit each (eventually consistent, < 4 KB): 7 200 queries
 * and 3 600 RRU per worker-hour, about $0.00045 per worker-hour on demand ($0.125 per million RRU,
 * us-east-1), against 361 queries at Java's cadence; plus a GetItem per lease newly assigned. Without the GSI (a 2.x
 * table) it is an eventually consistent Scan: 0.5 RRU per 4 KB of table per interval.
 */
export function discoveryIntervalOf(config: ResolvedConsumerConfig): number {
  const java = Math.floor(config.leaseAssignmentIntervalMillis / 2) - D.epsilonMillis
  const target = Math.floor(config.failoverTimeMillis / D.leaseExpiryWatchDivisor)
  return Math.max(MIN_DISCOVERY_MILLIS, Math.min(MAX_DISCOVERY_MILLIS, target, java))
}

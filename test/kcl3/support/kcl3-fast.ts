import type { KinesisConsumerOptions } from '../../../packages/consumer/src/index.js'
import { KCL3_MODE_SEAMS } from '../../../packages/consumer/src/kcl3/kcl3-mode-seams.js'

/**
 * '3x' with the leader's cadences scaled down as FAST scales the 2.x ones: a full assignment run every
 * 1.5 s (the expiry pass at FAST's 250 ms), metrics every 2 s (active for 4 s), a 3 s leader lock
 * heartbeated every 1 s. All workers of a test run in one process, so they publish the Java default
 * metric (balancing by lease count) instead of a CPU figure they would all share.
 */
export const KCL3_FAST = {
  clientVersionConfig: '3x',
  leaseAssignmentIntervalMillis: 1_500,
  workerMetricsReporterFreqInMillis: 2_000,
  dynamoDbLockBasedLeaderLeaseDurationInMillis: 3_000,
  dynamoDbLockBasedLeaderHeartbeatPeriodInMillis: 1_000,
  gracefulLeaseHandoffTimeoutMillis: 5_000,
  [KCL3_MODE_SEAMS]: { workerMetrics: [] },
} as Partial<KinesisConsumerOptions>

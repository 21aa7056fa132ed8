import {
  ConfigurationError,
  booleanOption,
  durationOption,
  integerOption,
  numberOption,
  oneOf,
} from '@kinesis-ts/shared'
import type { KinesisConsumerOptions, ResolvedKcl3Options } from './config-types.js'
import { CONSUMER_DEFAULTS as D } from './defaults.js'

/** The Java `ClientVersionConfig` values, camelCased. */
export const CLIENT_VERSION_CONFIGS = ['3x', 'compatibleWith2x', 'compatibleWith2xPhase1'] as const

/**
 * The KCL 3.x options (Java names and defaults, kcl3-protocol §11). Resolved and checked now; until the
 * 3.x worker, leader and metrics are wired together, every `clientVersionConfig` runs the 2.x protocol.
 */
export function kcl3OptionsOf(options: KinesisConsumerOptions, failoverTimeMillis: number): ResolvedKcl3Options {
  const heartbeat = durationOption(
    'dynamoDbLockBasedLeaderHeartbeatPeriodInMillis',
    options.dynamoDbLockBasedLeaderHeartbeatPeriodInMillis,
    D.dynamoDbLockBasedLeaderHeartbeatPeriodInMillis,
    1,
  )
  const leaderLeaseDuration = durationOption(
    'dynamoDbLockBasedLeaderLeaseDurationInMillis',
    options.dynamoDbLockBasedLeaderLeaseDurationInMillis,
    D.dynamoDbLockBasedLeaderLeaseDurationInMillis,
    1,
  )
  // The Java lock library refuses a lease that a single late heartbeat would let expire.
  if (leaderLeaseDuration < 2 * heartbeat) {
    throw new ConfigurationError(
      'dynamoDbLockBasedLeaderLeaseDurationInMillis',
      `at least 2 × dynamoDbLockBasedLeaderHeartbeatPeriodInMillis (${2 * heartbeat})`,
      leaderLeaseDuration,
    )
  }
  return {
    clientVersionConfig: oneOf(
      'clientVersionConfig',
      options.clientVersionConfig,
      CLIENT_VERSION_CONFIGS,
      D.clientVersionConfig,
    ),
    leaseAssignmentIntervalMillis: durationOption(
      'leaseAssignmentIntervalMillis',
      options.leaseAssignmentIntervalMillis,
      D.leaseAssignmentIntervalFactor * failoverTimeMillis,
      // Discovery runs at half of it minus epsilon in Java: anything shorter would be a busy loop.
      4 * D.epsilonMillis,
    ),
    workerMetricsReporterFreqInMillis: durationOption(
      'workerMetricsReporterFreqInMillis',
      options.workerMetricsReporterFreqInMillis,
      D.workerMetricsReporterFreqInMillis,
      // lut is stored in whole seconds: a faster report could not be told from the last one.
      1_000,
    ),
    dynamoDbLockBasedLeaderLeaseDurationInMillis: leaderLeaseDuration,
    dynamoDbLockBasedLeaderHeartbeatPeriodInMillis: heartbeat,
    gracefulLeaseHandoffTimeoutMillis: durationOption(
      'gracefulLeaseHandoffTimeoutMillis',
      options.gracefulLeaseHandoffTimeoutMillis,
      D.gracefulLeaseHandoffTimeoutMillis,
      0,
    ),
    reBalanceThresholdPercentage: integerOption(
      'reBalanceThresholdPercentage',
      options.reBalanceThresholdPercentage,
      D.reBalanceThresholdPercentage,
      1,
      100,
    ),
    dampeningPercentage: integerOption(
      'dampeningPercentage',
      options.dampeningPercentage,
      D.dampeningPercentage,
      1,
      100,
    ),
    allowThroughputOvershoot: booleanOption(
      'allowThroughputOvershoot',
      options.allowThroughputOvershoot,
      D.allowThroughputOvershoot,
    ),
    varianceBalancingFrequency: integerOption(
      'varianceBalancingFrequency',
      options.varianceBalancingFrequency,
      D.varianceBalancingFrequency,
      1,
    ),
    workerMetricsEMAAlpha: numberOption(
      'workerMetricsEMAAlpha',
      options.workerMetricsEMAAlpha,
      D.workerMetricsEMAAlpha,
      {
        min: 0,
        minExclusive: true,
        max: 1,
      },
    ),
    maxThroughputPerHostKBps: numberOption(
      'maxThroughputPerHostKBps',
      options.maxThroughputPerHostKBps,
      D.maxThroughputPerHostKBps,
      { min: 0, minExclusive: true, max: Number.POSITIVE_INFINITY },
    ),
  }
}

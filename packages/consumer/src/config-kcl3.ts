import { booleanOption, durationOption, integerOption, numberOption, oneOf } from '@kinesis-ts/shared'
import type { KinesisConsumerOptions, ResolvedKcl3Options } from './config-types.js'
import { CONSUMER_DEFAULTS as D } from './defaults.js'
import { DEFAULT_ASSIGNMENT_THRESHOLDS as T } from './kcl3/assignment-plan.js'
import { leaderLockTiming } from './kcl3/leader-lock-item.js'
import { CLIENT_VERSION_CONFIGS } from './kcl3/migration-state.js'

/**
 * The KCL 3.x options (Java names and defaults, kcl3-protocol §11), resolved and checked at construction.
 * `clientVersionConfig` stays undefined when not given: start() chooses it from the lease table.
 */
export function kcl3OptionsOf(options: KinesisConsumerOptions, failoverTimeMillis: number): ResolvedKcl3Options {
  // The leader lock's pair is checked where the lock lives (part A), once.
  const lock = leaderLockTiming(options)
  return {
    clientVersionConfig:
      options.clientVersionConfig === undefined
        ? undefined
        : oneOf('clientVersionConfig', options.clientVersionConfig, CLIENT_VERSION_CONFIGS),
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
    dynamoDbLockBasedLeaderLeaseDurationInMillis: lock.leaseDurationMillis,
    dynamoDbLockBasedLeaderHeartbeatPeriodInMillis: lock.heartbeatPeriodMillis,
    gracefulLeaseHandoffTimeoutMillis: durationOption(
      'gracefulLeaseHandoffTimeoutMillis',
      options.gracefulLeaseHandoffTimeoutMillis,
      D.gracefulLeaseHandoffTimeoutMillis,
      0,
    ),
    reBalanceThresholdPercentage: integerOption(
      'reBalanceThresholdPercentage',
      options.reBalanceThresholdPercentage,
      T.reBalanceThresholdPercentage,
      1,
      100,
    ),
    dampeningPercentage: integerOption(
      'dampeningPercentage',
      options.dampeningPercentage,
      T.dampeningPercentage,
      1,
      100,
    ),
    allowThroughputOvershoot: booleanOption(
      'allowThroughputOvershoot',
      options.allowThroughputOvershoot,
      T.allowThroughputOvershoot,
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
      T.workerMetricsEMAAlpha,
      {
        min: 0,
        minExclusive: true,
        max: 1,
      },
    ),
    maxThroughputPerHostKBps: numberOption(
      'maxThroughputPerHostKBps',
      options.maxThroughputPerHostKBps,
      T.maxThroughputPerHostKBps,
      { min: 0, minExclusive: true, max: Number.POSITIVE_INFINITY },
    ),
  }
}

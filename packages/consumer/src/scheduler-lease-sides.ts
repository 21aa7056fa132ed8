import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import type { ResolvedConsumerConfig } from './config.js'
import type { WorkerMetricStatsReader } from './kcl3/contracts.js'
import type { LeaseProtocol } from './kcl3/kcl3-mode.js'
import { Kcl3WorkerCoordinator } from './kcl3/worker-coordinator.js'
import { discoveryIntervalOf } from './kcl3/worker-mode.js'
import type { HeldLease } from './leases/held-lease.js'
import { LeaseCoordinator } from './leases/lease-coordinator.js'
import type { LeaseSideOptions } from './leases/lease-side-options.js'

/*
 * Step 1 of the scheduler's pipeline: which leases are this worker's. Either protocol's lease side —
 * the 2.x taker, or the 3.x worker's discovery of what the leader assigned — built from the config,
 * reporting to the scheduler through the same callbacks.
 */

/** What the scheduler needs of either protocol's lease side. */
export type LeaseSide = Pick<LeaseCoordinator, 'held' | 'get' | 'start' | 'stopTaking' | 'release' | 'forget' | 'stop'>

export interface LeaseSideContext
  extends Pick<LeaseSideOptions, 'store' | 'logger' | 'metrics' | 'onAcquired' | 'onLost'> {
  readonly config: ResolvedConsumerConfig
  readonly dynamodb: DynamoDBClient
  /** 3.x only: the leader moves this lease to another worker. */
  readonly onHandoff: (held: HeldLease) => void
}

export function leaseSideOf(
  protocol: LeaseProtocol,
  context: LeaseSideContext,
  workerMetrics: WorkerMetricStatsReader | undefined,
): LeaseSide {
  return protocol === '3x' ? discoveringLeaseSide(context, workerMetrics) : takingLeaseSide(context)
}

/** KCL 3.x: never takes or steals; discovers what the leader assigned, honours handoffs. */
export function discoveringLeaseSide(
  context: LeaseSideContext,
  workerMetrics: WorkerMetricStatsReader | undefined,
): LeaseSide {
  const { config } = context
  return new Kcl3WorkerCoordinator({
    ...leaseSideOptionsOf(context),
    dynamodb: context.dynamodb,
    discoveryIntervalMillis: discoveryIntervalOf(config),
    gracefulLeaseHandoffTimeoutMillis: config.gracefulLeaseHandoffTimeoutMillis,
    workerMetricsReporterFreqInMillis: config.workerMetricsReporterFreqInMillis,
    dynamoDbRequestTimeoutMillis: config.dynamoDbRequestTimeoutMillis,
    workerMetrics,
    onHandoff: context.onHandoff,
  })
}

/** KCL 2.x: the taker and stealer, with the fleet-wide expiry watch. */
export function takingLeaseSide(context: LeaseSideContext): LeaseSide {
  const { config } = context
  return new LeaseCoordinator({
    ...leaseSideOptionsOf(context),
    takerIntervalMillis: config.leaseTakerIntervalMillis,
    expiryWatchIntervalMillis: config.leaseExpiryWatchIntervalMillis,
    maxLeasesForWorker: config.maxLeasesForWorker,
    maxLeasesToStealAtOneTime: config.maxLeasesToStealAtOneTime,
  })
}

/** The options both protocols' lease sides take alike, from the config and the scheduler's callbacks. */
function leaseSideOptionsOf(context: LeaseSideContext): LeaseSideOptions {
  const { config } = context
  return {
    store: context.store,
    workerId: config.workerId,
    failoverTimeMillis: config.failoverTimeMillis,
    renewerIntervalMillis: config.leaseRenewerIntervalMillis,
    maxLeaseRenewalThreads: config.maxLeaseRenewalThreads,
    fenceMarginMillis: config.leaseFenceMarginMillis,
    logger: context.logger,
    metrics: context.metrics,
    onAcquired: context.onAcquired,
    onLost: context.onLost,
  }
}

import type { Logger, MetricsSink } from '@kinesis-ts/shared'
import type { HeldLease } from './held-lease.js'
import type { LeaseStore } from './lease-store.js'

/**
 * What both protocols' lease sides (the 2.x LeaseCoordinator, the 3.x Kcl3WorkerCoordinator) need
 * alike: the table, who this worker is, how its held leases are renewed and fenced, and where it
 * reports. Each side's options add only what its own way of getting leases needs.
 */
export interface LeaseSideOptions {
  readonly store: LeaseStore
  readonly workerId: string
  readonly failoverTimeMillis: number
  readonly renewerIntervalMillis: number
  readonly maxLeaseRenewalThreads: number
  readonly fenceMarginMillis: number
  readonly logger: Logger
  readonly metrics: MetricsSink
  readonly onAcquired: (held: HeldLease) => void
  readonly onLost: (held: HeldLease) => void
}

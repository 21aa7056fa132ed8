import type { Logger, MetricsSink } from '@kinesis-ts/shared'
import type { HeldLease } from './leases/held-lease.js'
import type { LeaseStore } from './leases/lease-store.js'
import { METRICS } from './metrics.js'
import { isSentinel, isShardEnd } from './records/sequence.js'
import type { LeaseSide } from './scheduler-lease-sides.js'
import type { ShardSyncer } from './shard-sync/shard-syncer.js'

/*
 * The last step of the scheduler's pipeline: leases of finished shards deleted once nothing needs
 * them (cleanupLeasesUponShardCompletion), as the Java LeaseCleanupManager does.
 */

export interface FinishedLeaseCleanupOptions {
  readonly store: LeaseStore
  readonly syncer: ShardSyncer
  readonly logger: Logger
  readonly metrics: MetricsSink
  /** The lease side of the moment (it changes with the protocol). */
  readonly leases: () => LeaseSide
  /** Whether a consumer still runs for the shard (its lease is not finished with yet). */
  readonly running: (leaseKey: string) => boolean
}

/**
 * Deletes leases of finished shards once every child has a lease that has started, parents first
 * (as the Java LeaseCleanupManager): a child deleted before its parent would leave the parent's
 * child lookup failing forever. A finished shard with no children is deleted once ListShards no
 * longer lists it.
 */
export async function cleanUpFinishedLeases(options: FinishedLeaseCleanupOptions, signal: AbortSignal): Promise<void> {
  const { store, syncer } = options
  for (const held of options.leases().held) {
    if (!isShardEnd(held.lease.checkpoint) || options.running(held.leaseKey)) continue
    const parents = await Promise.all(held.lease.parentShardIds.map((parent) => store.getLease(parent, signal)))
    if (parents.some((parent) => parent !== undefined)) continue
    const children = await childrenOf(options, held, signal)
    if (children.length === 0) {
      if (!(await syncer.shardExists(held.leaseKey, signal))) await deleteLease(options, held)
      continue
    }
    const leases = await Promise.all(children.map((child) => store.getLease(child, signal)))
    const started = leases.every(
      (lease) => lease !== undefined && (isShardEnd(lease.checkpoint) || !isSentinel(lease.checkpoint.sequenceNumber)),
    )
    if (started) await deleteLease(options, held)
  }
}

async function deleteLease(options: FinishedLeaseCleanupOptions, held: HeldLease): Promise<void> {
  if (!(await options.store.deleteLease(held.leaseKey))) return
  options.leases().forget(held.leaseKey)
  options.metrics.put(METRICS.cleanedLeases, 1, 'Count')
  options.logger.info({ shardId: held.leaseKey }, 'deleted the lease of a finished shard')
}

/**
 * A finished lease's children: as recorded on it, or (a lease from an older Java KCL, or one whose
 * owner died before recording them) from ListShards, creating any child lease that is missing.
 */
async function childrenOf(
  options: FinishedLeaseCleanupOptions,
  held: HeldLease,
  signal: AbortSignal,
): Promise<readonly string[]> {
  if (held.lease.childShardIds.length > 0) return held.lease.childShardIds
  const found = await options.syncer.childShardsOf(held.leaseKey, signal)
  if (found.length > 0) await options.syncer.createChildLeases(held.leaseKey, found)
  return found.map((child) => child.shardId)
}

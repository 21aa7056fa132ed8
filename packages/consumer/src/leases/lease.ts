import type { ExtendedSequenceNumber } from '../types.js'

/** One row of the lease table, as the Java KCL models it. */
export interface Lease {
  /** The shard id. */
  readonly leaseKey: string
  readonly leaseOwner: string | undefined
  readonly leaseCounter: number
  readonly checkpoint: ExtendedSequenceNumber
  readonly pendingCheckpoint: ExtendedSequenceNumber | undefined
  readonly pendingCheckpointState: Uint8Array | undefined
  readonly ownerSwitchesSinceCheckpoint: number
  readonly parentShardIds: readonly string[]
  readonly childShardIds: readonly string[]
  /** Decimal strings; absent on leases written by Java KCL versions before 2.3. */
  readonly hashKeyRange: { readonly startingHashKey: string; readonly endingHashKey: string } | undefined
  readonly throughputKBps: number | undefined
  readonly checkpointOwner: string | undefined
}

/** A fresh, unowned lease for a shard (counter 0, as the Java KCL creates it). */
export function newLease(
  leaseKey: string,
  checkpoint: ExtendedSequenceNumber,
  parentShardIds: readonly string[],
  hashKeyRange: Lease['hashKeyRange'],
): Lease {
  return {
    leaseKey,
    leaseOwner: undefined,
    leaseCounter: 0,
    checkpoint,
    pendingCheckpoint: undefined,
    pendingCheckpointState: undefined,
    ownerSwitchesSinceCheckpoint: 0,
    parentShardIds,
    childShardIds: [],
    hashKeyRange,
    throughputKBps: undefined,
    checkpointOwner: undefined,
  }
}

/**
 * Who is working a lease: during a KCL 3.x graceful handoff (`checkpointOwner` set) the old owner
 * still is, whatever `leaseOwner` says; otherwise the owner.
 */
export function actualOwner(lease: Lease): string | undefined {
  return lease.checkpointOwner ?? lease.leaseOwner
}

/** A KCL 3.x graceful handoff in progress: neither taken nor stolen until it completes or expires. */
export function inHandoff(lease: Lease): boolean {
  return lease.checkpointOwner !== undefined && lease.checkpointOwner !== lease.leaseOwner
}

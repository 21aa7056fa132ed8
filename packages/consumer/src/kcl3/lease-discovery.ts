import { DescribeTableCommand, type DescribeTableCommandOutput, type DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { AwsCallError, toAwsCallError, withDeadline } from '@kinesis-ts/shared'
import type { LeaseStore } from '../leases/lease-store.js'
import { LEASE_OWNER_INDEX } from '../leases/lease-table.js'
import type { Lease } from '../leases/lease.js'

export interface LeaseDiscoveryOptions {
  readonly store: LeaseStore
  readonly dynamodb: DynamoDBClient
  readonly workerId: string
  /** Bound on the DescribeTable call (the store bounds its own calls). */
  readonly requestTimeoutMillis: number
}

/** Ready to start: names this worker, and no handoff towards it is still in progress (§4.4). */
export function isAssignedTo(lease: Lease | undefined, workerId: string): lease is Lease {
  return lease !== undefined && lease.leaseOwner === workerId && lease.checkpointOwner === undefined
}

export interface Discovered {
  /** Newly assigned to this worker, read consistently, ready to start. */
  readonly assigned: Lease[]
  /**
   * Held here but no longer naming this worker in the index (or scan): the leader moved it — a
   * handoff to start, or a plain assign — which the next renewal finds out.
   */
  readonly gone: string[]
}

/**
 * How a KCL 3.x worker finds the leases the leader assigned to it (kcl3-protocol §5, Java
 * DynamoDBLeaseDiscoverer): the keys from the `LeaseOwnerToLeaseKeyIndex` GSI, then a consistent
 * GetItem of each new one, kept only while it still names this worker and carries no
 * `checkpointOwner` (the old owner has not finished its handoff yet).
 *
 * A table without the index (one a Java KCL 2.x created; dynalite cannot add it) is served from an
 * eventually consistent Scan instead, the candidates read again consistently, so either way a lease
 * is only acted on from a consistent read.
 */
export class LeaseDiscovery {
  readonly #options: LeaseDiscoveryOptions
  /** Whether the table has the index; asked once (it is never removed by a 3.x fleet). */
  #hasIndex: Promise<boolean> | undefined

  constructor(options: LeaseDiscoveryOptions) {
    this.#options = options
  }

  /** Leases newly assigned to this worker (not among `held`), and held ones it no longer owns. */
  async discover(held: ReadonlySet<string>, signal: AbortSignal): Promise<Discovered> {
    const { store, workerId } = this.#options
    const candidates = (await this.#usesIndex(signal))
      ? await store.listLeaseKeysOwnedBy(workerId, signal)
      : (await store.listLeases(signal, { consistent: false }))
          .filter((lease) => isAssignedTo(lease, workerId))
          .map((lease) => lease.leaseKey)
    const fresh = candidates.filter((leaseKey) => !held.has(leaseKey))
    const owned = new Set(candidates)
    const read = await Promise.all(fresh.map((leaseKey) => store.getLease(leaseKey, signal)))
    return {
      assigned: read.filter((lease) => isAssignedTo(lease, workerId)),
      gone: [...held].filter((leaseKey) => !owned.has(leaseKey)),
    }
  }

  /**
   * The leases this worker owned before it restarted (Java DynamoDBLeaseRenewer initialize): a
   * consistent scan, skipping those in a handoff towards it.
   */
  async ownedAtStart(signal: AbortSignal): Promise<Lease[]> {
    const { store, workerId } = this.#options
    return (await store.listLeases(signal)).filter((lease) => isAssignedTo(lease, workerId))
  }

  #usesIndex(signal: AbortSignal): Promise<boolean> {
    if (this.#hasIndex === undefined) {
      const asked = this.#describeIndex(signal)
      this.#hasIndex = asked
      // A failed DescribeTable is asked again next round, not remembered as "no index".
      asked.catch(() => {
        if (this.#hasIndex === asked) this.#hasIndex = undefined
      })
    }
    return this.#hasIndex
  }

  async #describeIndex(signal: AbortSignal): Promise<boolean> {
    const { dynamodb, store, requestTimeoutMillis } = this.#options
    try {
      const { Table } = await withDeadline<DescribeTableCommandOutput>(
        'DescribeTable',
        requestTimeoutMillis,
        signal,
        (abortSignal) => dynamodb.send(new DescribeTableCommand({ TableName: store.tableName }), { abortSignal }),
      )
      // A CREATING index answers queries with an error: the scan serves until it is ACTIVE.
      const index = Table?.GlobalSecondaryIndexes?.find((gsi) => gsi.IndexName === LEASE_OWNER_INDEX)
      const active = index?.IndexStatus === 'ACTIVE'
      if (index !== undefined && !active) this.#hasIndex = undefined
      return active
    } catch (error) {
      throw error instanceof AwsCallError ? error : toAwsCallError('DescribeTable', error)
    }
  }
}

import type { HeldLease } from '../leases/held-lease.js'
import type { Lease } from '../leases/lease.js'

/** Java LeaseGracefulShutdownHandler: how often handoffs past their timeout are looked for. */
export const HANDOFF_CHECK_INTERVAL_MILLIS = 2_000

/** The leader asked this worker to hand the lease over: `leaseOwner` names the new owner, `checkpointOwner` us (§4.2). */
export function isHandingOff(lease: Lease, workerId: string): boolean {
  return lease.checkpointOwner === workerId && lease.leaseOwner !== workerId
}

/**
 * The graceful handoffs this worker is giving (Java LeaseGracefulShutdownHandler): each noticed once,
 * when its shard was asked to shut down, and due for an assign without waiting for the final
 * checkpoint once gracefulLeaseHandoffTimeoutMillis has passed.
 */
export class HandoffTracker {
  readonly #since = new Map<string, { readonly held: HeldLease; readonly at: number }>()
  readonly #timeoutMillis: number
  readonly #now: () => number

  constructor(timeoutMillis: number, now: () => number = () => performance.now()) {
    this.#timeoutMillis = timeoutMillis
    this.#now = now
  }

  /** True the first time a handoff of this held lease is seen. */
  notice(held: HeldLease): boolean {
    if (this.#since.get(held.leaseKey)?.held === held) return false
    this.#since.set(held.leaseKey, { held, at: this.#now() })
    return true
  }

  /** Handoffs whose shard did not finish in time: the lease is assigned over anyway. */
  overdue(): HeldLease[] {
    const now = this.#now()
    return [...this.#since.values()].filter(({ at }) => now - at >= this.#timeoutMillis).map(({ held }) => held)
  }

  forget(leaseKey: string): void {
    this.#since.delete(leaseKey)
  }
}

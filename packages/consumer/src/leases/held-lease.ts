import type { Lease } from './lease.js'

/** Reads the lease's current item: what a failed condition is checked against. */
export type ReadLease = (leaseKey: string) => Promise<Lease | undefined>

/** Re-reads after a failed condition before the lease counts as lost (a committed write whose answer was lost). */
const MAX_CONDITION_RECOVERIES = 3

/**
 * A lease this worker holds. Renewals, checkpoints and the release all bump `leaseCounter`
 * conditionally, so they must not race each other: `write()` runs them one at a time and keeps the
 * latest item, so each write is conditional on the counter the previous one produced.
 *
 * A write whose condition fails is not taken as a loss at once: a write that DynamoDB committed but
 * answered with an error (a 500, a timeout, a reset) leaves the counter we hold one behind. The item
 * is read again, and while it still names this worker (and no other `checkpointOwner`) its counter is
 * adopted and the write tried again.
 */
export class HeldLease {
  #lease: Lease
  #chain: Promise<unknown> = Promise.resolve()
  #lostReason: string | undefined
  #lastRenewedAt: number
  readonly #workerId: string
  readonly #read: ReadLease
  readonly #lostController = new AbortController()
  readonly #handoffs: boolean
  #deliveredBytes = 0

  /**
   * `renewedAt`: when the write that made `lease` ours was sent, on the monotonic clock. `handoffs`
   * (KCL 3.x worker): an item naming this worker as `checkpointOwner` and another as `leaseOwner` is a
   * handoff this worker gives, and still its own to renew and checkpoint until it assigns it over.
   */
  constructor(lease: Lease, workerId: string, read: ReadLease, renewedAt: number, { handoffs = false } = {}) {
    this.#lease = lease
    this.#workerId = workerId
    this.#read = read
    this.#lastRenewedAt = renewedAt
    this.#handoffs = handoffs
  }

  /** True while this worker hands the lease to the `leaseOwner` the leader named (KCL 3.x, §4). */
  get handingOff(): boolean {
    return this.#lease.checkpointOwner === this.#workerId && this.#lease.leaseOwner !== this.#workerId
  }

  /** Counts record data delivered to the processor: the KCL 3.x owner reports it as `throughputKBps`. */
  recordDelivered(bytes: number): void {
    this.#deliveredBytes += bytes
  }

  /** Bytes delivered since the last call. */
  takeDeliveredBytes(): number {
    const bytes = this.#deliveredBytes
    this.#deliveredBytes = 0
    return bytes
  }

  get leaseKey(): string {
    return this.#lease.leaseKey
  }

  get lease(): Lease {
    return this.#lease
  }

  get lost(): boolean {
    return this.#lostReason !== undefined
  }

  /** Why the lease stopped being ours (undefined while it is). */
  get lostReason(): string | undefined {
    return this.#lostReason
  }

  /** Aborts when the lease is lost: waits tied to it end at once. */
  get lostSignal(): AbortSignal {
    return this.#lostController.signal
  }

  /** When the last successful renewal was sent (monotonic ms): the lease is ours until failover after it. */
  get lastRenewedAt(): number {
    return this.#lastRenewedAt
  }

  markRenewed(sentAt: number): void {
    if (sentAt > this.#lastRenewedAt) this.#lastRenewedAt = sentAt
  }

  markLost(reason: string): void {
    if (this.#lostReason !== undefined) return
    this.#lostReason = reason
    this.#lostController.abort()
  }

  /**
   * Runs `op` after every earlier write; a returned item becomes the current lease. `undefined` means
   * the lease is no longer ours (its condition failed and the item names someone else, or is gone).
   */
  write(op: (lease: Lease) => Promise<Lease | undefined>): Promise<Lease | undefined> {
    const run = this.#chain.then(async () => {
      for (let recoveries = 0; ; recoveries++) {
        const updated = await op(this.#lease)
        if (updated !== undefined) {
          this.#lease = updated
          return updated
        }
        if (recoveries >= MAX_CONDITION_RECOVERIES) return undefined
        const current = await this.#read(this.leaseKey)
        if (!this.#stillOurs(current)) return undefined
        this.#lease = current
      }
    })
    this.#chain = run.catch(() => {})
    return run
  }

  #stillOurs(current: Lease | undefined): current is Lease {
    if (current === undefined) return false
    if (this.#handoffs && current.checkpointOwner === this.#workerId) return true
    if (current.leaseOwner !== this.#workerId) return false
    // A KCL 3.x graceful handoff names the worker that may still checkpoint: another one means it is not ours.
    return current.checkpointOwner === undefined || current.checkpointOwner === this.#workerId
  }
}

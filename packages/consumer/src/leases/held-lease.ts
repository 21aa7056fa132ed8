import type { Lease } from './lease.js'

/**
 * A lease this worker holds. Renewals, checkpoints and the release all bump `leaseCounter`
 * conditionally, so they must not race each other: `write()` runs them one at a time and keeps the
 * latest item, so each write is conditional on the counter the previous one produced.
 */
export class HeldLease {
  #lease: Lease
  #chain: Promise<unknown> = Promise.resolve()
  #lost = false
  #lastRenewedAt: number
  readonly #lostController = new AbortController()

  constructor(lease: Lease, now: number) {
    this.#lease = lease
    this.#lastRenewedAt = now
  }

  get leaseKey(): string {
    return this.#lease.leaseKey
  }

  get lease(): Lease {
    return this.#lease
  }

  get lost(): boolean {
    return this.#lost
  }

  /** Aborts when the lease is lost: waits tied to it end at once. */
  get lostSignal(): AbortSignal {
    return this.#lostController.signal
  }

  get lastRenewedAt(): number {
    return this.#lastRenewedAt
  }

  markRenewed(now: number): void {
    this.#lastRenewedAt = now
  }

  /** Adopts a newer copy read from the table (after a lost response on our own write). */
  adopt(lease: Lease): void {
    this.#lease = lease
  }

  markLost(): void {
    if (this.#lost) return
    this.#lost = true
    this.#lostController.abort()
  }

  /** Runs `op` after every earlier write; a returned item becomes the current lease. */
  write(op: (lease: Lease) => Promise<Lease | undefined>): Promise<Lease | undefined> {
    const run = this.#chain.then(async () => {
      const updated = await op(this.#lease)
      if (updated !== undefined) this.#lease = updated
      return updated
    })
    this.#chain = run.catch(() => {})
    return run
  }
}

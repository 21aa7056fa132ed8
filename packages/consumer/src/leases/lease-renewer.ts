import type { Logger, MetricsSink } from '@kinesis-ts/shared'
import { METRICS } from '../metrics.js'
import { HeldLease } from './held-lease.js'
import type { LeaseStore } from './lease-store.js'
import type { Lease } from './lease.js'

export interface LeaseRenewerOptions {
  readonly store: LeaseStore
  readonly workerId: string
  readonly failoverTimeMillis: number
  readonly logger: Logger
  readonly metrics: MetricsSink
  readonly onLost: (held: HeldLease) => void
  readonly now?: () => number
}

/**
 * Keeps this worker's leases alive by bumping their counters. It never waits on record processing:
 * checkpoints share only the per-lease write queue, a single short DynamoDB write.
 */
export class LeaseRenewer {
  readonly #held = new Map<string, HeldLease>()
  readonly #options: LeaseRenewerOptions
  readonly #now: () => number

  constructor(options: LeaseRenewerOptions) {
    this.#options = options
    this.#now = options.now ?? Date.now
  }

  add(lease: Lease): HeldLease {
    const held = new HeldLease(lease, this.#now())
    this.#held.set(lease.leaseKey, held)
    return held
  }

  remove(leaseKey: string): void {
    this.#held.delete(leaseKey)
  }

  get(leaseKey: string): HeldLease | undefined {
    return this.#held.get(leaseKey)
  }

  get held(): HeldLease[] {
    return [...this.#held.values()]
  }

  get keys(): Set<string> {
    return new Set(this.#held.keys())
  }

  async renewAll(): Promise<void> {
    await Promise.all(this.held.map((held) => this.#renew(held)))
    this.#options.metrics.put(METRICS.currentLeases, this.#held.size, 'Count')
  }

  async #renew(held: HeldLease): Promise<void> {
    const { store, workerId, metrics, logger, failoverTimeMillis } = this.#options
    const started = performance.now()
    let ok = false
    try {
      const before = held.lease
      ok = (await held.write((lease) => store.renew(lease, workerId))) !== undefined
      if (!ok) {
        // Our previous write may have landed with its response lost: the item then still names us.
        const current = await store.getLease(held.leaseKey)
        if (current?.leaseOwner === workerId && current.leaseCounter > before.leaseCounter) {
          held.adopt(current)
          ok = true
        } else {
          this.#lose(held, current === undefined ? 'deleted' : `owner is now ${current.leaseOwner ?? 'nobody'}`)
          return
        }
      }
      held.markRenewed(this.#now())
    } catch (error) {
      logger.warn({ err: error, leaseKey: held.leaseKey }, 'lease renewal failed')
      // Others will see the counter frozen and take the lease; stop acting on it before they do.
      if (this.#now() - held.lastRenewedAt > failoverTimeMillis)
        this.#lose(held, 'not renewed within failoverTimeMillis')
    } finally {
      metrics.put(METRICS.renewLeaseSuccess, ok ? 1 : 0, 'Count')
      metrics.put(METRICS.renewLeaseTime, performance.now() - started, 'Milliseconds')
    }
  }

  #lose(held: HeldLease, reason: string): void {
    if (!this.#held.has(held.leaseKey)) return
    this.#held.delete(held.leaseKey)
    this.#options.logger.info({ leaseKey: held.leaseKey, reason }, 'lease lost')
    this.#options.metrics.put(METRICS.lostLeases, 1, 'Count')
    held.markLost()
    this.#options.onLost(held)
  }
}

import type { Logger, MetricsSink } from '@kinesis-ts/shared'
import { runEvery } from '../loop.js'
import { METRICS } from '../metrics.js'
import type { HeldLease } from './held-lease.js'
import { LeaseRenewer } from './lease-renewer.js'
import type { LeaseStore } from './lease-store.js'
import { ExpiryTracker, planLeaseTaking } from './lease-taker.js'
import type { Lease } from './lease.js'

export interface LeaseCoordinatorOptions {
  readonly store: LeaseStore
  readonly workerId: string
  readonly failoverTimeMillis: number
  readonly renewerIntervalMillis: number
  readonly maxLeaseRenewalThreads: number
  readonly fenceMarginMillis: number
  readonly takerIntervalMillis: number
  readonly maxLeasesForWorker: number
  readonly maxLeasesToStealAtOneTime: number
  readonly logger: Logger
  readonly metrics: MetricsSink
  readonly onAcquired: (held: HeldLease) => void
  readonly onLost: (held: HeldLease) => void
}

/**
 * This worker's side of lease balancing: a renewer loop every failoverTimeMillis/3 and a taker
 * loop on its own interval. Taking can stop (graceful shutdown) while renewal goes on until every
 * lease is released.
 */
export class LeaseCoordinator {
  readonly #options: LeaseCoordinatorOptions
  readonly #renewer: LeaseRenewer
  readonly #expiry: ExpiryTracker
  readonly #renewing = new AbortController()
  readonly #taking = new AbortController()
  #loops: Promise<void>[] = []

  constructor(options: LeaseCoordinatorOptions) {
    this.#options = options
    this.#expiry = new ExpiryTracker(options.failoverTimeMillis)
    this.#renewer = new LeaseRenewer({
      store: options.store,
      workerId: options.workerId,
      failoverTimeMillis: options.failoverTimeMillis,
      maxLeaseRenewalThreads: options.maxLeaseRenewalThreads,
      fenceMarginMillis: options.fenceMarginMillis,
      logger: options.logger,
      metrics: options.metrics,
      onLost: options.onLost,
    })
  }

  get held(): HeldLease[] {
    return this.#renewer.held
  }

  get(leaseKey: string): HeldLease | undefined {
    return this.#renewer.get(leaseKey)
  }

  start(): void {
    const { logger } = this.#options
    this.#loops = [
      runEvery(
        this.#options.renewerIntervalMillis,
        this.#renewing.signal,
        // Not awaited: each lease renews on its own, and a slow one must not push the next round back.
        async () => void this.#renewer.renewAll(),
        (error) => logger.warn({ err: error }, 'lease renewal round failed'),
      ),
      runEvery(
        this.#options.takerIntervalMillis,
        this.#taking.signal,
        () => this.takeLeases(),
        (error) => logger.warn({ err: error }, 'lease taking round failed'),
      ),
    ]
  }

  /** One taking round (also called directly by tests). */
  async takeLeases(): Promise<void> {
    const { store, workerId, metrics, logger } = this.#options
    const started = performance.now()
    const leases = await store.listLeases(this.#taking.signal)
    const available = this.#expiry.observe(leases, Date.now(), workerId, this.#renewer.keys)
    const plan = planLeaseTaking(leases, available, workerId, this.#options)
    metrics.put(METRICS.totalLeases, leases.length, 'Count')
    metrics.put(METRICS.expiredLeases, available.size, 'Count')
    metrics.put(METRICS.numWorkers, plan.workers, 'Count')
    metrics.put(METRICS.neededLeases, Math.max(0, plan.target - this.#renewer.keys.size), 'Count')
    metrics.put(METRICS.leaseSpillover, plan.spillover, 'Count')
    let taken = 0
    for (const lease of plan.take) {
      if (this.#taking.signal.aborted) break
      if (await this.#take(lease, plan.stealing)) taken++
    }
    metrics.put(METRICS.takenLeases, taken, 'Count')
    metrics.put(METRICS.takeLeasesTime, performance.now() - started, 'Milliseconds')
    if (taken > 0) logger.info({ taken, target: plan.target, workers: plan.workers }, 'took leases')
  }

  async #take(lease: Lease, stealing: boolean): Promise<boolean> {
    const sentAt = performance.now()
    const taken = await this.#options.store.take(lease, this.#options.workerId)
    this.#options.metrics.put(METRICS.takeLeasesSuccess, taken === undefined ? 0 : 1, 'Count')
    if (taken === undefined) return false
    this.#options.logger.debug({ leaseKey: lease.leaseKey, stealing, from: lease.leaseOwner }, 'lease taken')
    this.#options.onAcquired(this.#renewer.add(taken, sentAt))
    return true
  }

  stopTaking(): void {
    this.#taking.abort()
  }

  /** Gives one lease up: clears the owner so another worker takes it without waiting for expiry. */
  async release(held: HeldLease): Promise<void> {
    this.#renewer.remove(held.leaseKey)
    if (held.lost) return
    try {
      const released = await held.write((lease) => this.#options.store.evict(lease, this.#options.workerId))
      if (released === undefined)
        this.#options.logger.warn({ leaseKey: held.leaseKey }, 'lease changed hands before release')
    } finally {
      held.markLost('released')
    }
  }

  /** Stops holding a lease without writing (its item was deleted). */
  forget(leaseKey: string): void {
    const held = this.#renewer.get(leaseKey)
    this.#renewer.remove(leaseKey)
    held?.markLost('its lease was deleted')
  }

  async stop(): Promise<void> {
    this.#taking.abort()
    this.#renewing.abort()
    await Promise.all(this.#loops)
    await this.#renewer.stop()
  }
}

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
  /** How often an eventually consistent scan looks for expired, released or assigned leases (0: never). */
  readonly expiryWatchIntervalMillis: number
  readonly maxLeasesForWorker: number
  readonly maxLeasesToStealAtOneTime: number
  readonly logger: Logger
  readonly metrics: MetricsSink
  readonly onAcquired: (held: HeldLease) => void
  readonly onLost: (held: HeldLease) => void
}

/**
 * This worker's side of lease balancing: a renewer loop every failoverTimeMillis/3, a taker loop on
 * its own interval (the Java KCL's: balancing, stealing), and between them a cheap watch that takes
 * leases as soon as they are free — expired (counter still for failoverTimeMillis), released by a
 * worker that shut down, or naming this worker — but never steals. Without the watch a crashed
 * worker's leases wait for the second taker scan after expiry (up to 2 × 20 s at the defaults).
 * Rounds run one at a time. Taking can stop (graceful shutdown) while renewal goes on until every
 * lease is released.
 */
export class LeaseCoordinator {
  readonly #options: LeaseCoordinatorOptions
  readonly #renewer: LeaseRenewer
  readonly #expiry: ExpiryTracker
  readonly #renewing = new AbortController()
  readonly #taking = new AbortController()
  #loops: Promise<void>[] = []
  /** The round in progress: a watch and a taker round never interleave. */
  #round: Promise<unknown> = Promise.resolve()

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
    if (this.#options.expiryWatchIntervalMillis > 0) {
      this.#loops.push(
        runEvery(
          this.#options.expiryWatchIntervalMillis,
          this.#taking.signal,
          () => this.watchForFreeLeases(),
          (error) => logger.debug({ err: error }, 'lease expiry watch failed'),
        ),
      )
    }
  }

  /** One watch round: free leases only, from an eventually consistent scan, no metrics of a taker round. */
  watchForFreeLeases(): Promise<void> {
    return this.#serialized(async () => {
      const { store, workerId } = this.#options
      const leases = await store.listLeases(this.#taking.signal, { consistent: false })
      const available = this.#expiry.observe(leases, performance.now(), workerId, this.#renewer.keys)
      if (available.size === 0) return
      const plan = planLeaseTaking(leases, available, workerId, this.#options)
      // Only free leases: stealing stays with the slow round, as the Java KCL balances.
      if (plan.stealing) return
      for (const lease of plan.take) {
        if (this.#taking.signal.aborted) break
        await this.#take(lease, false)
      }
    })
  }

  #serialized<T>(round: () => Promise<T>): Promise<T> {
    const next = this.#round.then(round)
    this.#round = next.catch(() => {})
    return next
  }

  /** One taking round (also called directly by tests). */
  takeLeases(): Promise<void> {
    return this.#serialized(() => this.#takeLeases())
  }

  async #takeLeases(): Promise<void> {
    const { store, workerId, metrics, logger } = this.#options
    const started = performance.now()
    // Eventually consistent, as the Java KCL's lease scan: a stale item only makes a conditional take fail.
    const leases = await store.listLeases(this.#taking.signal, { consistent: false })
    const available = this.#expiry.observe(leases, performance.now(), workerId, this.#renewer.keys)
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

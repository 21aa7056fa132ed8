import { pause, runEvery } from '../loop.js'
import { METRICS } from '../metrics.js'
import type { HeldLease } from './held-lease.js'
import { LeaseRenewer } from './lease-renewer.js'
import type { LeaseSideOptions } from './lease-side-options.js'
import { ExpiryTracker, planLeaseTaking } from './lease-taker.js'
import type { Lease } from './lease.js'
import { ScheduledTakes, nextWatchSlot, watchTurns } from './watch-schedule.js'

/**
 * An owner whose leases stood still this many renewal intervals is dropped from the watch schedule;
 * more than one interval, so a renewal landing just after our scan does not make a live worker look dead.
 */
const STALLED_RENEWAL_INTERVALS = 1.5
/**
 * A scheduled take fires unless a scan showed the counter move first, so a worker arms them only when
 * it scans a live lease at least once between its renewals and its expiry, with a tenth of slack.
 */
const ARMED_FAILOVER_SHARE = 0.9

export interface LeaseCoordinatorOptions extends LeaseSideOptions {
  readonly takerIntervalMillis: number
  /**
   * The fleet's expiry watch: some worker runs an eventually consistent scan for expired, released or
   * assigned leases this often, the live workers taking turns (0: never).
   */
  readonly expiryWatchIntervalMillis: number
  readonly maxLeasesForWorker: number
  readonly maxLeasesToStealAtOneTime: number
}

/**
 * This worker's side of lease balancing: a renewer loop every failoverTimeMillis/3, a taker loop on
 * its own interval (the Java KCL's: balancing, stealing), and between them a cheap watch that takes
 * leases as soon as they are free — expired (counter still for failoverTimeMillis), released by a
 * worker that shut down, or naming this worker — but never steals. Without the watch a crashed
 * worker's leases wait for the second taker scan after expiry (up to 2 × 20 s at the defaults).
 *
 * The watch costs a Scan each time, so the fleet shares it (watch-schedule.ts): each live worker scans
 * in its own wall-clock slots, and a lease whose counter a scan saw is taken by a timer at the moment
 * it would expire, conditional on that counter, rather than at a later scan. Expired leases, and
 * leases seen released by another worker, are all taken at once, even above the fair share
 * (availability first: with the scans spread over the fleet the next chance may be seconds away; the
 * taker round rebalances). Fresh unowned leases (a new table) still go by the fair share.
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
  readonly #scheduled: ScheduledTakes
  /** The slot of the last watch scan, and whether it took leases (then the next slot is ours too). */
  #lastWatchSlot = Number.NEGATIVE_INFINITY
  #eager = false

  constructor(options: LeaseCoordinatorOptions) {
    this.#options = options
    this.#expiry = new ExpiryTracker(
      options.failoverTimeMillis,
      STALLED_RENEWAL_INTERVALS * options.renewerIntervalMillis,
    )
    this.#scheduled = new ScheduledTakes((lease) => {
      this.#takeWhenExpired(lease).catch((error) =>
        options.logger.debug({ err: error, leaseKey: lease.leaseKey }, 'scheduled lease take failed'),
      )
    })
    this.#taking.signal.addEventListener('abort', () => this.#scheduled.cancelAll(), { once: true })
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
      this.#renewer.renewEvery(this.#options.renewerIntervalMillis, this.#renewing.signal),
      runEvery(
        this.#options.takerIntervalMillis,
        this.#taking.signal,
        () => this.takeLeases(),
        (error) => logger.warn({ err: error }, 'lease taking round failed'),
      ),
    ]
    if (this.#options.expiryWatchIntervalMillis > 0) {
      this.#loops.push(
        // No interval of its own: each run waits for this worker's next slot, a failed scan included.
        runEvery(
          0,
          this.#taking.signal,
          () => this.#watchInNextSlot(),
          (error) => logger.debug({ err: error }, 'lease expiry watch failed'),
        ),
      )
    }
  }

  #slotInput(nowMillis: number) {
    const { expiryWatchIntervalMillis, workerId, takerIntervalMillis, failoverTimeMillis, renewerIntervalMillis } =
      this.#options
    return {
      nowMillis,
      fleetIntervalMillis: expiryWatchIntervalMillis,
      // Past the taker interval the taker's scans come first; past the armed bound the timers misfire.
      maxWorkerIntervalMillis: Math.min(
        takerIntervalMillis,
        ARMED_FAILOVER_SHARE * failoverTimeMillis - renewerIntervalMillis,
      ),
      workers: this.#expiry.liveWorkers(workerId),
      workerId,
      lastSlot: this.#lastWatchSlot,
      eager: this.#eager,
    }
  }

  async #watchInNextSlot(): Promise<void> {
    const input = this.#slotInput(Date.now())
    const next = nextWatchSlot(input)
    // At most one turn: a wall clock stepped back would otherwise put the last slot far ahead.
    const wait = Math.min(next.atMillis - Date.now(), watchTurns(input) * input.fleetIntervalMillis)
    if (!(await pause(wait, this.#taking.signal))) return
    this.#lastWatchSlot = next.slot
    this.#eager = false
    await this.watchForFreeLeases()
  }

  /**
   * One watch round, from an eventually consistent scan, without the metrics of a taker round: every
   * expired or released lease, other free ones up to the fair share, never a steal (balancing stays
   * with the slow round, as the Java KCL balances).
   */
  watchForFreeLeases(): Promise<void> {
    return this.#serialized(() => this.#watchRound())
  }

  async #watchRound(): Promise<void> {
    const { store, workerId } = this.#options
    const leases = await store.listLeases(this.#taking.signal, { consistent: false })
    const now = performance.now()
    const available = this.#observe(leases, now)
    if (available.size === 0) return
    const plan = planLeaseTaking(leases, available, workerId, this.#options)
    // A worker died or left: its leases go at once, to whoever sees them first, above the fair share.
    const orphaned = leases.filter(
      (l) =>
        available.has(l.leaseKey) && (this.#expiry.isExpired(l.leaseKey, now) || this.#expiry.isReleased(l.leaseKey)),
    )
    const take = new Set(plan.stealing ? orphaned : [...plan.take, ...orphaned])
    let taken = 0
    for (const lease of take) {
      if (this.#taking.signal.aborted || this.#full()) break
      if (await this.#take(lease, false)) taken++
    }
    // The fleet is changing (a worker left or died): look again in the next slot, not the next turn.
    if (taken > 0) this.#eager = true
  }

  /** Updates the expiry tracker from a scan and re-arms the scheduled takes from it. */
  #observe(leases: readonly Lease[], now: number): Set<string> {
    const available = this.#expiry.observe(leases, now, this.#options.workerId, this.#renewer.keys)
    if (!this.#armsTimers()) return available
    const armed = new Set<string>()
    for (const lease of leases) {
      if (available.has(lease.leaseKey) || this.#renewer.keys.has(lease.leaseKey)) continue
      const at = this.#expiry.expiresAt(lease.leaseKey, lease.leaseCounter)
      if (at === undefined) continue
      this.#scheduled.schedule(lease, at)
      armed.add(lease.leaseKey)
    }
    this.#scheduled.retain(armed)
    return available
  }

  /** Timers only while taking, and only while this worker's scans see a live lease move before they fire. */
  #armsTimers(): boolean {
    const { expiryWatchIntervalMillis, failoverTimeMillis, renewerIntervalMillis } = this.#options
    if (this.#taking.signal.aborted || expiryWatchIntervalMillis <= 0) {
      this.#scheduled.cancelAll()
      return false
    }
    const ownInterval = watchTurns(this.#slotInput(Date.now())) * expiryWatchIntervalMillis
    const armed = ownInterval + renewerIntervalMillis <= ARMED_FAILOVER_SHARE * failoverTimeMillis
    if (!armed) this.#scheduled.cancelAll()
    return armed
  }

  /** A scheduled take: the lease's counter stood still since it was armed (no scan saw it move). */
  #takeWhenExpired(lease: Lease): Promise<void> {
    return this.#serialized(async () => {
      if (this.#taking.signal.aborted || this.#renewer.keys.has(lease.leaseKey) || this.#full()) return
      // A scan since arming that saw another counter would have re-armed the timer; this one is stale.
      if (this.#expiry.expiresAt(lease.leaseKey, lease.leaseCounter) === undefined) return
      if (!this.#expiry.isExpired(lease.leaseKey, performance.now())) return
      if (await this.#take(lease, false)) return
      // Lost the race: another survivor is taking the dead worker's leases. The other timers armed from
      // the same scan would mostly lose too, each a failed conditional write (a write unit) holding up
      // this serialized round; one fresh scan instead shows which are still free, takes those at once
      // and re-arms the rest (the queued timers then see another counter and stand down).
      await this.#watchRound()
    })
  }

  #full(): boolean {
    return this.#renewer.keys.size >= this.#options.maxLeasesForWorker
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
    const available = this.#observe(leases, performance.now())
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
    // A scheduled take in flight would hand the renewer a lease after it stopped.
    await this.#round
    await this.#renewer.stop()
  }
}

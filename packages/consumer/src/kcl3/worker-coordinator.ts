import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import type { HeldLease } from '../leases/held-lease.js'
import { LeaseRenewer } from '../leases/lease-renewer.js'
import type { LeaseSideOptions } from '../leases/lease-side-options.js'
import type { Lease } from '../leases/lease.js'
import { runEvery } from '../loop.js'
import type { WorkerMetricStatsReader } from './contracts.js'
import { HANDOFF_CHECK_INTERVAL_MILLIS, HandoffTracker, isHandingOff } from './handoff.js'
import { LeaseDiscovery } from './lease-discovery.js'
import { ThroughputMeter } from './lease-throughput.js'
import { PeerAssignment } from './peer-assignment.js'

export interface Kcl3WorkerCoordinatorOptions extends LeaseSideOptions {
  readonly dynamodb: DynamoDBClient
  readonly discoveryIntervalMillis: number
  readonly gracefulLeaseHandoffTimeoutMillis: number
  readonly workerMetricsReporterFreqInMillis: number
  readonly dynamoDbRequestTimeoutMillis: number
  readonly workerMetrics: WorkerMetricStatsReader | undefined
  /** The leader started a graceful handoff of this lease: its shard should shut down (checkpointing) and be released. */
  readonly onHandoff: (held: HeldLease) => void
}

/**
 * A KCL 3.x worker's side of leases (kcl3-protocol §3–5): it never takes or steals. It renews what it
 * holds (expecting no handoff, writing throughputKBps), finds the leases the leader assigned to it
 * (LeaseDiscovery), and gives leases up as Java does — to the new owner at the end of a graceful
 * handoff, within gracefulLeaseHandoffTimeoutMillis — or, at its own shutdown, to the least-loaded
 * live peer. Same surface as the 2.x LeaseCoordinator, so the scheduler drives either.
 */
export class Kcl3WorkerCoordinator {
  readonly #options: Kcl3WorkerCoordinatorOptions
  readonly #renewer: LeaseRenewer
  readonly #discovery: LeaseDiscovery
  readonly #meter = new ThroughputMeter()
  readonly #handoffs: HandoffTracker
  readonly #peers: PeerAssignment
  readonly #renewing = new AbortController()
  readonly #taking = new AbortController()
  #loops: Promise<void>[] = []

  constructor(options: Kcl3WorkerCoordinatorOptions) {
    this.#options = options
    const { store, workerId } = options
    this.#handoffs = new HandoffTracker(options.gracefulLeaseHandoffTimeoutMillis)
    this.#discovery = new LeaseDiscovery({
      store,
      dynamodb: options.dynamodb,
      workerId,
      requestTimeoutMillis: options.dynamoDbRequestTimeoutMillis,
    })
    this.#peers = new PeerAssignment({
      store,
      workerId,
      workerMetrics: options.workerMetrics,
      workerMetricsReporterFreqInMillis: options.workerMetricsReporterFreqInMillis,
    })
    this.#renewer = new LeaseRenewer({
      store,
      workerId,
      failoverTimeMillis: options.failoverTimeMillis,
      maxLeaseRenewalThreads: options.maxLeaseRenewalThreads,
      fenceMarginMillis: options.fenceMarginMillis,
      logger: options.logger,
      metrics: options.metrics,
      onLost: (held) => {
        this.#handoffs.forget(held.leaseKey)
        options.onLost(held)
      },
      handoffs: true,
      renewLease: (lease, held, signal) => this.#renew(lease, held, signal),
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
    let first = true
    this.#loops = [
      this.#renewer.renewEvery(this.#options.renewerIntervalMillis, this.#renewing.signal),
      runEvery(
        this.#options.discoveryIntervalMillis,
        this.#taking.signal,
        async () => {
          // The first round picks up what this worker owned before a restart, as the Java renewer does.
          if (first) await this.#adoptOwnedAtStart()
          first = false
          await this.discover()
        },
        (error) => logger.warn({ err: error }, 'lease discovery failed'),
      ),
      runEvery(
        HANDOFF_CHECK_INTERVAL_MILLIS,
        this.#renewing.signal,
        async () => this.#assignOverdueHandoffs(),
        (error) => logger.warn({ err: error }, 'handoff timeout check failed'),
      ),
    ]
  }

  /** One discovery round (also called directly by tests). */
  async discover(): Promise<void> {
    const { assigned, gone } = await this.#discovery.discover(this.#renewer.keys, this.#taking.signal)
    for (const lease of assigned) await this.#acquire(lease)
    // A lease the leader moved is seen here within a discovery interval; renewing now (instead of up
    // to failoverTimeMillis / 3 later, as Java) starts a handoff's shutdown, or drops a lease assigned
    // away, at once: what keeps a graceful handoff under 2 s at the defaults.
    const moved = gone.filter((leaseKey) => {
      const held = this.#renewer.get(leaseKey)
      return held !== undefined && !held.handingOff
    })
    if (moved.length > 0) void this.#renewer.renewAll()
  }

  async #adoptOwnedAtStart(): Promise<void> {
    const owned = await this.#discovery.ownedAtStart(this.#taking.signal)
    for (const lease of owned) if (this.#renewer.get(lease.leaseKey) === undefined) await this.#acquire(lease)
  }

  /**
   * A lease found assigned to this worker joins it with a renewal, conditional on the counter read: it
   * proves the lease is still ours and starts its fence from a write we sent, not from the read.
   */
  async #acquire(lease: Lease): Promise<void> {
    const { store, workerId, logger } = this.#options
    if (this.#taking.signal.aborted) return
    const sentAt = performance.now()
    const renewed = await store.renew3x(lease, workerId, undefined, this.#taking.signal)
    if (renewed === undefined) return
    const held = this.#renewer.add(renewed, sentAt)
    this.#meter.start(held)
    logger.debug({ leaseKey: lease.leaseKey }, 'assigned lease discovered')
    this.#options.onAcquired(held)
  }

  async #renew(lease: Lease, held: HeldLease, signal: AbortSignal | undefined): Promise<Lease | undefined> {
    const { store, workerId } = this.#options
    const renewed = await store.renew3x(lease, workerId, this.#meter.measure(held), signal)
    // A failed renewal is read again by the held lease: an item in a handoff from us is adopted and
    // renewed once more without the expectation, landing here again.
    if (renewed !== undefined && isHandingOff(renewed, workerId) && this.#handoffs.notice(held)) {
      this.#options.logger.info({ leaseKey: held.leaseKey, to: renewed.leaseOwner }, 'graceful handoff requested')
      // After this write: the shard's final checkpoint and the assign queue behind it on the lease.
      queueMicrotask(() => this.#options.onHandoff(held))
    }
    return renewed
  }

  async #assignOverdueHandoffs(): Promise<void> {
    for (const held of this.#handoffs.overdue()) {
      this.#options.logger.warn(
        { leaseKey: held.leaseKey, timeoutMillis: this.#options.gracefulLeaseHandoffTimeoutMillis },
        'graceful handoff not finished in time: assigning the lease without the final checkpoint',
      )
      await this.release(held)
    }
  }

  stopTaking(): void {
    this.#taking.abort()
  }

  /**
   * Gives one lease up: to the new owner of a handoff in progress; at shutdown to the least-loaded
   * live peer; else (no live peer) evicted for the leader to assign.
   */
  async release(held: HeldLease): Promise<void> {
    const { store, workerId, logger } = this.#options
    this.#handoffs.forget(held.leaseKey)
    this.#renewer.remove(held.leaseKey)
    if (held.lost) return
    try {
      const peer = held.handingOff ? undefined : await this.#peerFor(held)
      const released = await held.write((lease) => {
        const to = isHandingOff(lease, workerId) ? lease.leaseOwner : peer
        return to === undefined ? store.evict(lease, workerId) : store.assign(lease, to)
      })
      if (released === undefined) logger.warn({ leaseKey: held.leaseKey }, 'lease changed hands before release')
      else logger.debug({ leaseKey: held.leaseKey, to: released.leaseOwner }, 'lease given up')
    } finally {
      held.markLost('released')
    }
  }

  async #peerFor(held: HeldLease): Promise<string | undefined> {
    // Outside a shutdown (a shard ended its run on its own) the leader decides.
    if (!this.#taking.signal.aborted) return undefined
    try {
      return await this.#peers.choose(this.#renewing.signal)
    } catch (error) {
      this.#options.logger.warn({ err: error, leaseKey: held.leaseKey }, 'no peer chosen: evicting the lease')
      return undefined
    }
  }

  /** Stops holding a lease without writing (its item was deleted). */
  forget(leaseKey: string): void {
    const held = this.#renewer.get(leaseKey)
    this.#handoffs.forget(leaseKey)
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

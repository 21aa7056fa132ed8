import type { Logger, MetricsSink } from '@kinesis-ts/shared'
import pLimit, { type LimitFunction } from 'p-limit'
import { runEvery } from '../loop.js'
import { METRICS } from '../metrics.js'
import { HeldLease } from './held-lease.js'
import type { LeaseStore } from './lease-store.js'
import type { Lease } from './lease.js'

export interface LeaseRenewerOptions {
  readonly store: LeaseStore
  readonly workerId: string
  readonly failoverTimeMillis: number
  /** Renewals in flight at once (Java maxLeaseRenewalThreads). */
  readonly maxLeaseRenewalThreads: number
  /**
   * A lease is given up this long before failoverTimeMillis has passed since its last successful
   * renewal was sent, because by then another worker may judge it expired and take it.
   */
  readonly fenceMarginMillis: number
  readonly logger: Logger
  readonly metrics: MetricsSink
  readonly onLost: (held: HeldLease) => void
  /** Monotonic milliseconds (performance.now); injectable for tests. */
  readonly now?: () => number
  /** The renewal write (default `store.renew`); the KCL 3.x worker's also expects no handoff and reports throughput. */
  readonly renewLease?: (lease: Lease, held: HeldLease, signal: AbortSignal | undefined) => Promise<Lease | undefined>
  /** KCL 3.x: leases keep being held while this worker hands them off (see HeldLease). */
  readonly handoffs?: boolean
}

/**
 * Keeps this worker's leases alive by bumping their counters. Each lease renews on its own, at most
 * `maxLeaseRenewalThreads` at once: a round starts the renewals and does not wait for them, and a
 * lease whose renewal is still in flight is skipped, so one hung call delays no other lease. It
 * never waits on record processing: checkpoints share only the per-lease write queue.
 *
 * Every way a lease stops being ours — a failed condition, a checkpoint that found another owner,
 * no renewal for failoverTimeMillis (self-fencing, on the monotonic clock, even while the call is
 * still hanging), a release — goes through `HeldLease.markLost`, which removes it here.
 */
export class LeaseRenewer {
  readonly #held = new Map<string, HeldLease>()
  readonly #fences = new Map<string, ReturnType<typeof setTimeout>>()
  readonly #renewing = new Map<string, Promise<void>>()
  /** Per held lease: aborted when it is removed, so a renewal still retrying inside the SDK is not sent. */
  readonly #removed = new Map<string, AbortController>()
  readonly #limit: LimitFunction
  readonly #options: LeaseRenewerOptions
  readonly #now: () => number

  constructor(options: LeaseRenewerOptions) {
    this.#options = options
    this.#now = options.now ?? (() => performance.now())
    this.#limit = pLimit(options.maxLeaseRenewalThreads)
  }

  /** Holds a lease just written as ours by a call sent at `sentAt` (monotonic ms). */
  add(lease: Lease, sentAt = this.#now()): HeldLease {
    const { store, workerId } = this.#options
    const held = new HeldLease(lease, workerId, (leaseKey) => store.getLease(leaseKey), sentAt, {
      handoffs: this.#options.handoffs === true,
    })
    this.#held.set(lease.leaseKey, held)
    this.#removed.get(lease.leaseKey)?.abort()
    this.#removed.set(lease.leaseKey, new AbortController())
    held.lostSignal.addEventListener('abort', () => this.#onLost(held), { once: true })
    this.#armFence(held)
    return held
  }

  /** Stops holding a lease without reporting a loss (it was released or deleted on purpose). */
  remove(leaseKey: string): void {
    this.#held.delete(leaseKey)
    this.#disarmFence(leaseKey)
    this.#removed.get(leaseKey)?.abort()
    this.#removed.delete(leaseKey)
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

  /** The renewal loop both lease sides run: renewAll every `intervalMillis` until `signal` aborts. */
  renewEvery(intervalMillis: number, signal: AbortSignal): Promise<void> {
    return runEvery(
      intervalMillis,
      signal,
      // Not awaited: each lease renews on its own, and a slow one must not push the next round back.
      async () => void this.renewAll(),
      (error) => this.#options.logger.warn({ err: error }, 'lease renewal round failed'),
    )
  }

  /** Starts a renewal of every held lease that has none in flight; resolves when those started now end. */
  renewAll(): Promise<void> {
    const started: Promise<void>[] = []
    for (const held of this.#held.values()) {
      if (this.#renewing.has(held.leaseKey)) continue
      const renewal = this.#limit(() => this.#renew(held)).finally(() => this.#renewing.delete(held.leaseKey))
      this.#renewing.set(held.leaseKey, renewal)
      started.push(renewal)
    }
    this.#options.metrics.put(METRICS.currentLeases, this.#held.size, 'Count')
    return Promise.all(started).then(() => undefined)
  }

  /** Waits for renewals in flight (bounded by the store's call deadline) and clears every fence timer. */
  async stop(): Promise<void> {
    await Promise.all(this.#renewing.values())
    for (const leaseKey of [...this.#fences.keys()]) this.#disarmFence(leaseKey)
  }

  async #renew(held: HeldLease): Promise<void> {
    const { store, workerId, metrics, logger } = this.#options
    if (held.lost || this.#held.get(held.leaseKey) !== held) return
    const sentAt = this.#now()
    const started = performance.now()
    let ok = false
    const stillHeld = () => this.#held.get(held.leaseKey) === held
    try {
      // Queued behind a checkpoint, a renewal may come due after the lease was released: it must not
      // keep alive a lease nobody works any more.
      const removed = this.#removed.get(held.leaseKey)?.signal
      const renewLease = this.#options.renewLease ?? ((lease) => store.renew(lease, workerId, removed))
      const renewed = await held.write((lease) =>
        stillHeld() ? renewLease(lease, held, removed) : Promise.resolve(lease),
      )
      if (!stillHeld()) return
      if (renewed === undefined) {
        held.markLost('another worker holds it now (renewal condition failed)')
        return
      }
      ok = true
      held.markRenewed(sentAt)
      this.#armFence(held)
    } catch (error) {
      // Released meanwhile: the renewal was stopped on purpose.
      if (!stillHeld()) return
      // Nothing else to do: the fence gives the lease up before others may judge it expired.
      logger.warn({ err: error, leaseKey: held.leaseKey }, 'lease renewal failed')
    } finally {
      metrics.put(METRICS.renewLeaseSuccess, ok ? 1 : 0, 'Count')
      metrics.put(METRICS.renewLeaseTime, performance.now() - started, 'Milliseconds')
    }
  }

  #armFence(held: HeldLease): void {
    const { failoverTimeMillis, fenceMarginMillis } = this.#options
    this.#disarmFence(held.leaseKey)
    const due = held.lastRenewedAt + failoverTimeMillis - fenceMarginMillis - this.#now()
    const fence = setTimeout(
      () => {
        this.#fences.delete(held.leaseKey)
        const silentFor = Math.round(this.#now() - held.lastRenewedAt)
        held.markLost(`not renewed for ${silentFor} ms (failoverTimeMillis ${failoverTimeMillis})`)
      },
      Math.max(0, due),
    )
    // A fence must not keep the process alive by itself; the loops that matter hold it up.
    fence.unref?.()
    this.#fences.set(held.leaseKey, fence)
  }

  #disarmFence(leaseKey: string): void {
    const fence = this.#fences.get(leaseKey)
    if (fence === undefined) return
    clearTimeout(fence)
    this.#fences.delete(leaseKey)
  }

  #onLost(held: HeldLease): void {
    // Removed on purpose (released, deleted) before being marked: not a loss to report.
    if (this.#held.get(held.leaseKey) !== held) return
    this.remove(held.leaseKey)
    this.#options.logger.info({ leaseKey: held.leaseKey, reason: held.lostReason }, 'lease lost')
    this.#options.metrics.put(METRICS.lostLeases, 1, 'Count')
    this.#options.onLost(held)
  }
}

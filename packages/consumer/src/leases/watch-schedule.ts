import type { Lease } from './lease.js'

/**
 * The expiry watch is shared by the fleet: a crashed worker's lease is noticed early enough when ONE
 * worker scans soon after its last renewal, so the workers take turns instead of each scanning at the
 * fleet's rate. Time is cut into wall-clock slots of `fleetIntervalMillis`; of the W live workers
 * (sorted by id) the one of rank r scans in the slots where slot mod W == r. The wall clock only
 * spreads the scans: a skewed clock makes two workers share a slot and leaves another empty (latency),
 * while expiry itself stays on each worker's monotonic clock (safety).
 */
export interface WatchSlotInput {
  /** Wall clock (Date.now()): the same slot boundaries on every worker. */
  readonly nowMillis: number
  readonly fleetIntervalMillis: number
  /**
   * No worker waits longer than this between its own watch scans (the taker interval): past it the
   * taker's scans would see everything first, and with many workers W × interval would grow unbounded.
   */
  readonly maxWorkerIntervalMillis: number
  /** Live worker ids, this worker included. */
  readonly workers: readonly string[]
  readonly workerId: string
  /** The slot of this worker's last watch scan: never two scans in one slot. */
  readonly lastSlot: number
  /** Scan in the very next slot whatever the rank: the last scan found leases to take (a fleet change). */
  readonly eager: boolean
}

export interface WatchSlot {
  readonly slot: number
  /** Wall-clock start of the slot. */
  readonly atMillis: number
}

function sortedWorkers(input: Pick<WatchSlotInput, 'workers' | 'workerId'>): string[] {
  return [...new Set([...input.workers, input.workerId])].sort()
}

/**
 * How many slots a turn of the fleet lasts: one per live worker, but no more than fit in
 * `maxWorkerIntervalMillis` (ranks beyond the cap share slots: more than one worker per slot rather
 * than a longer wait for each). This worker scans once per turn.
 */
export function watchTurns(input: Omit<WatchSlotInput, 'nowMillis' | 'lastSlot' | 'eager'>): number {
  const cap = Math.floor(input.maxWorkerIntervalMillis / input.fleetIntervalMillis)
  return Math.max(1, Math.min(sortedWorkers(input).length, cap))
}

/** This worker's next watch slot (possibly the current one, when it is ours and not scanned yet). */
export function nextWatchSlot(input: WatchSlotInput): WatchSlot {
  const interval = input.fleetIntervalMillis
  const current = Math.floor(input.nowMillis / interval)
  const earliest = Math.max(current, input.lastSlot + 1)
  const turns = watchTurns(input)
  if (input.eager || turns === 1) return { slot: earliest, atMillis: earliest * interval }
  const rank = sortedWorkers(input).indexOf(input.workerId) % turns
  const slot = earliest + mod(rank - earliest, turns)
  return { slot, atMillis: slot * interval }
}

function mod(value: number, modulus: number): number {
  return ((value % modulus) + modulus) % modulus
}

export interface TimerFunctions {
  readonly setTimeout: (callback: () => void, ms: number) => unknown
  readonly clearTimeout: (handle: unknown) => void
}

const realTimers: TimerFunctions = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
}

/**
 * Takes a lease at the moment it expires instead of at the next scan after it: the take is
 * conditional on the counter that was seen, so no verifying read is needed first. One timer per lease
 * key, re-armed only when a scan shows a different counter; every timer is cleared by `cancelAll`.
 */
export class ScheduledTakes {
  readonly #pending = new Map<string, { readonly counter: number; readonly handle: unknown }>()
  readonly #fire: (lease: Lease) => void
  readonly #timers: TimerFunctions
  readonly #now: () => number

  constructor(fire: (lease: Lease) => void, timers: TimerFunctions = realTimers, now = () => performance.now()) {
    this.#fire = fire
    this.#timers = timers
    this.#now = now
  }

  /** Arms a take of `lease` (its counter as seen) at monotonic time `atMillis`. */
  schedule(lease: Lease, atMillis: number): void {
    const pending = this.#pending.get(lease.leaseKey)
    if (pending?.counter === lease.leaseCounter) return
    this.cancel(lease.leaseKey)
    const handle = this.#timers.setTimeout(
      () => {
        this.#pending.delete(lease.leaseKey)
        this.#fire(lease)
      },
      Math.max(0, atMillis - this.#now()),
    )
    this.#pending.set(lease.leaseKey, { counter: lease.leaseCounter, handle })
  }

  cancel(leaseKey: string): void {
    const pending = this.#pending.get(leaseKey)
    if (pending === undefined) return
    this.#timers.clearTimeout(pending.handle)
    this.#pending.delete(leaseKey)
  }

  /** Cancels every take except those of `keys`. */
  retain(keys: ReadonlySet<string>): void {
    for (const key of [...this.#pending.keys()]) if (!keys.has(key)) this.cancel(key)
  }

  cancelAll(): void {
    this.retain(new Set())
  }

  get size(): number {
    return this.#pending.size
  }
}

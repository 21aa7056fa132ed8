import type { Lease } from './lease.js'

export interface TakeLimits {
  readonly maxLeasesForWorker: number
  readonly maxLeasesToStealAtOneTime: number
}

export interface TakePlan {
  /** Leases to take, expired ones first (or a steal when none is expired). */
  readonly take: Lease[]
  readonly stealing: boolean
  readonly target: number
  /** Workers counted, this one included. */
  readonly workers: number
  /**
   * Leases this worker's fair share exceeds maxLeasesForWorker by: the Java KCL's LeaseSpillover,
   * leases it leaves to other workers (or unprocessed, if none can take them).
   */
  readonly spillover: number
}

/** ceil(leases / workers), at least 1: the Java KCL's target before maxLeasesForWorker caps it. */
function fairShare(leases: number, workers: number): number {
  return workers >= leases ? 1 : Math.ceil(leases / workers)
}

/** The fair share capped by maxLeasesForWorker (the Java KCL's target). */
export function targetLeaseCount(leases: number, workers: number, maxLeasesForWorker: number): number {
  return Math.min(fairShare(leases, workers), maxLeasesForWorker)
}

/**
 * Who is working a lease: during a KCL 3.x graceful handoff (`checkpointOwner` set) the old owner
 * still is, whatever `leaseOwner` says; otherwise the owner.
 */
export function actualOwner(lease: Lease): string | undefined {
  return lease.checkpointOwner ?? lease.leaseOwner
}

/** A KCL 3.x graceful handoff in progress: neither taken nor stolen until it completes or expires. */
export function inHandoff(lease: Lease): boolean {
  return lease.checkpointOwner !== undefined && lease.checkpointOwner !== lease.leaseOwner
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

/**
 * Decides which leases this worker takes in one round. Counts leases per live owner (expired leases
 * count for nobody), aims at the target, takes expired or unowned leases first and steals only when
 * none is available, at most `maxLeasesToStealAtOneTime` from the most loaded worker.
 */
export function planLeaseTaking(
  leases: readonly Lease[],
  available: ReadonlySet<string>,
  workerId: string,
  limits: TakeLimits,
  random: () => number = Math.random,
): TakePlan {
  const counts = new Map<string, number>([[workerId, 0]])
  for (const lease of leases) {
    const owner = actualOwner(lease)
    if (available.has(lease.leaseKey) || owner === undefined) continue
    counts.set(owner, (counts.get(owner) ?? 0) + 1)
  }
  const workers = counts.size
  const target = targetLeaseCount(leases.length, workers, limits.maxLeasesForWorker)
  const spillover = Math.max(0, fairShare(leases.length, workers) - limits.maxLeasesForWorker)
  const mine = counts.get(workerId) ?? 0
  const needed = target - mine
  const nothing = { take: [], stealing: false, target, workers, spillover }
  if (needed <= 0) return nothing

  const expired = leases.filter((lease) => available.has(lease.leaseKey))
  if (expired.length > 0) {
    return { take: shuffled(expired, random).slice(0, needed), stealing: false, target, workers, spillover }
  }

  let busiest: string | undefined
  let busiestCount = 0
  for (const [owner, count] of counts) {
    if (owner !== workerId && count > busiestCount) {
      busiest = owner
      busiestCount = count
    }
  }
  if (busiest === undefined || busiestCount < target) return nothing
  let steal = Math.min(needed, busiestCount - target)
  // Two workers at the target while this one is two short would never move without this.
  if (needed > 1 && steal === 0) steal = 1
  steal = Math.min(steal, limits.maxLeasesToStealAtOneTime)
  const theirs = leases.filter((lease) => actualOwner(lease) === busiest && !inHandoff(lease))
  return { take: shuffled(theirs, random).slice(0, steal), stealing: true, target, workers, spillover }
}

/**
 * Judges expiry the Java KCL way: no clock is stored in the table, so a lease is expired when its
 * `leaseCounter` has not moved for `failoverTimeMillis` of our own clock since we first saw it.
 * Unowned leases are available at once; so are leases that name this worker but that it does not
 * hold (left over from an earlier run with the same worker id, or assigned to it). A lease in a KCL
 * 3.x graceful handoff is available only once expired. `now` is monotonic (performance.now).
 *
 * It remembers which unowned leases it saw owned by another worker (released by a worker that shut
 * down), and it also tells which workers look alive: an owner whose every lease stood still across two of our
 * scans `stalledAfterMillis` apart (longer than a renewal interval) has stopped renewing, so it no
 * longer takes a turn in the fleet's watch schedule.
 */
export class ExpiryTracker {
  readonly #seen = new Map<string, { counter: number; since: number; owner: string | undefined; released: boolean }>()
  readonly #failoverTimeMillis: number
  readonly #stalledAfterMillis: number
  #lastScanAt = Number.NEGATIVE_INFINITY

  constructor(failoverTimeMillis: number, stalledAfterMillis = failoverTimeMillis) {
    this.#failoverTimeMillis = failoverTimeMillis
    this.#stalledAfterMillis = stalledAfterMillis
  }

  /** Updates from a fresh scan; returns the keys of leases that may be taken. */
  observe(leases: readonly Lease[], now: number, workerId: string, held: ReadonlySet<string>): Set<string> {
    const available = new Set<string>()
    const present = new Set<string>()
    this.#lastScanAt = now
    for (const lease of leases) {
      present.add(lease.leaseKey)
      const before = this.#seen.get(lease.leaseKey)
      if (before === undefined || before.counter !== lease.leaseCounter) {
        const owner = actualOwner(lease)
        const released =
          owner === undefined &&
          (before?.released === true || (before?.owner !== undefined && before.owner !== workerId))
        this.#seen.set(lease.leaseKey, { counter: lease.leaseCounter, since: now, owner, released })
      } else {
        // A 3.x handoff may name a new checkpointOwner without moving the counter.
        before.owner = actualOwner(lease)
      }
      if (held.has(lease.leaseKey)) continue
      const free = !inHandoff(lease) && (actualOwner(lease) === undefined || lease.leaseOwner === workerId)
      if (free || this.isExpired(lease.leaseKey, now)) available.add(lease.leaseKey)
    }
    for (const key of this.#seen.keys()) if (!present.has(key)) this.#seen.delete(key)
    return available
  }

  /** When the counter of `leaseKey` was last seen to change (monotonic ms); undefined if never seen. */
  lastChangeAt(leaseKey: string): number | undefined {
    return this.#seen.get(leaseKey)?.since
  }

  /**
   * Records a counter this worker just wrote (a KCL 3.x leader's assign), so an eventually
   * consistent scan that still shows the old counter does not make the lease look expired.
   */
  noteCounter(leaseKey: string, counter: number, now: number): void {
    const before = this.#seen.get(leaseKey)
    this.#seen.set(leaseKey, { counter, since: now, owner: before?.owner, released: false })
  }

  /** Whether the counter seen for `leaseKey` has stood still for more than failoverTimeMillis at `now`. */
  isExpired(leaseKey: string, now: number): boolean {
    const seen = this.#seen.get(leaseKey)
    return seen !== undefined && now - seen.since > this.#failoverTimeMillis
  }

  /** Whether the lease is unowned and a scan of ours saw another worker own it before: it was released. */
  isReleased(leaseKey: string): boolean {
    return this.#seen.get(leaseKey)?.released === true
  }

  /** Monotonic time after which the lease is expired if its counter is still `counter` (undefined: not seen so). */
  expiresAt(leaseKey: string, counter: number): number | undefined {
    const seen = this.#seen.get(leaseKey)
    if (seen === undefined || seen.counter !== counter) return undefined
    return seen.since + this.#failoverTimeMillis + 1
  }

  /** Owners with a lease that moved recently, as of the last scan, and this worker; sorted by id. */
  liveWorkers(workerId: string): string[] {
    const live = new Set([workerId])
    for (const seen of this.#seen.values()) {
      if (seen.owner !== undefined && this.#lastScanAt - seen.since < this.#stalledAfterMillis) live.add(seen.owner)
    }
    return [...live].sort()
  }
}

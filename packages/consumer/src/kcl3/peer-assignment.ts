import type { LeaseStore } from '../leases/lease-store.js'
import { actualOwner } from '../leases/lease.js'
import type { WorkerMetricStatsReader } from './contracts.js'
import { activeWorkerMetrics } from './worker-metric-rules.js'

export interface PeerAssignmentOptions {
  readonly store: LeaseStore
  readonly workerId: string
  /** Absent: no worker counts as live, leases are evicted for the leader to assign. */
  readonly workerMetrics: WorkerMetricStatsReader | undefined
  readonly workerMetricsReporterFreqInMillis: number
  /** Wall clock (ms since the epoch): lut is epoch seconds written by other hosts. */
  readonly now?: () => number
}

/**
 * Where a shutting-down KCL 3.x worker gives its leases (beyond Java, which leaves them to expire and
 * the leader to reassign a failover time later): to the live peer with the fewest leases, counted by
 * actual owner (`checkpointOwner`, else `leaseOwner`). Live is what the Java leader calls active — a
 * valid WorkerMetricStats item reported within 2 × workerMetricsReporterFreqInMillis, not failing
 * (kcl3-protocol §8, `activeWorkerMetrics`) — so a lease never goes to a worker the leader would not
 * assign to; before any worker reported, the other lease owners. The table and the metrics are read
 * once per shutdown; each choice counts towards the next, so the leases spread.
 */
export class PeerAssignment {
  readonly #options: PeerAssignmentOptions
  #loads: Promise<Map<string, number>> | undefined

  constructor(options: PeerAssignmentOptions) {
    this.#options = options
  }

  /** The least-loaded live peer, or undefined when there is none (the lease is then evicted). */
  async choose(signal: AbortSignal): Promise<string | undefined> {
    this.#loads ??= this.#read(signal)
    const loads = await this.#loads
    let best: [string, number] | undefined
    for (const entry of loads) {
      if (best === undefined || entry[1] < best[1] || (entry[1] === best[1] && entry[0] < best[0])) best = entry
    }
    if (best === undefined) return undefined
    loads.set(best[0], best[1] + 1)
    return best[0]
  }

  async #read(signal: AbortSignal): Promise<Map<string, number>> {
    const { store, workerId, workerMetrics, workerMetricsReporterFreqInMillis } = this.#options
    const loads = new Map<string, number>()
    if (workerMetrics === undefined) return loads
    const [stats, leases] = await Promise.all([workerMetrics.list(signal), store.listLeases(signal)])
    const now = (this.#options.now ?? Date.now)()
    for (const worker of activeWorkerMetrics(stats, now, workerMetricsReporterFreqInMillis)) {
      if (worker.workerId !== workerId) loads.set(worker.workerId, 0)
    }
    // A fleet that has not reported yet (the first report comes 2 s after start): the peers owning
    // leases are live as far as anyone knows, and a Java leader leaves a metric-less worker's renewed
    // leases where they are (kcl3-protocol §7), so they receive rather than the leases being evicted.
    if (loads.size === 0) {
      for (const lease of leases) {
        const owner = actualOwner(lease)
        if (owner !== undefined && owner !== workerId) loads.set(owner, 0)
      }
    }
    for (const lease of leases) {
      const owner = actualOwner(lease)
      const count = owner === undefined ? undefined : loads.get(owner)
      if (owner !== undefined && count !== undefined) loads.set(owner, count + 1)
    }
    return loads
  }
}

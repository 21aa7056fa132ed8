import { type ObservedLease, actualOwner } from './assignment-plan.js'
import type { WorkerMetricStats } from './contracts.js'

/**
 * The leader's judgement of which workers with active metrics have crashed (beyond Java). A worker
 * that owns leases and has let every one of them expire has stopped renewing, but its
 * WorkerMetricStats stay "active" for up to 2 × the report period (60 s at the defaults). Java keeps
 * it in the queue: step 1 hands its own expired leases back to it (no write, so they stay expired
 * while it stays the emptiest worker) and step 2 may pick it as a receiver once its leases are gone.
 *
 * Here such a worker counts as crashed until it reports again (a newer `lut`: a restarted or
 * recovered process), so it neither receives leases nor weighs on the fleet average. A live worker
 * renews everything it holds in one round, so an expired lease beside renewed ones (one failed write,
 * a lease it has not discovered yet) does not make it crashed; a worker holding nothing is never judged.
 */
export class CrashedWorkers {
  /** Worker id → the `lut` (epoch seconds) of its report when it was judged crashed. */
  #judged = new Map<string, number>()

  /** The active workers that have not crashed, for one planning run. */
  live(active: readonly WorkerMetricStats[], observed: readonly ObservedLease[]): WorkerMetricStats[] {
    const renewing = new Set<string | undefined>()
    const expired = new Set<string | undefined>()
    for (const o of observed) (o.expired ? expired : renewing).add(actualOwner(o.lease))
    const judged = new Map<string, number>()
    const live = active.filter(({ workerId, lastUpdateTimeSeconds: lut }) => {
      const before = this.#judged.get(workerId)
      if (expired.has(workerId) && !renewing.has(workerId)) judged.set(workerId, lut)
      else if (before !== undefined && lut <= before) judged.set(workerId, before)
      return !judged.has(workerId)
    })
    // Only active workers are remembered: one whose metrics expired is left out by the Java rule anyway.
    this.#judged = judged
    return live
  }
}

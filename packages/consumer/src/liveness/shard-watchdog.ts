/** What the watchdog needs to know of one held lease. */
export interface WatchedLease {
  readonly shardId: string
  /** At SHARD_END: held until cleanup, with no consumer by design. */
  readonly finished: boolean
  /** The consumer running for it, if any; `stalledForMillis` counts only time the shard should have moved. */
  readonly consumer: { stalledForMillis(now: number): number } | undefined
  /** A consumer is being started or finishing (waiting for the previous one, describing the shard). */
  readonly starting: boolean
}

export type StallReason = 'no-consumer' | 'no-progress'

export interface Stall {
  readonly shardId: string
  readonly reason: StallReason
  /** How long the shard had not moved (0 for a lease found without a consumer). */
  readonly stalledForMillis: number
}

/**
 * The invariant behind "no shard stalls silently": every unfinished lease this worker holds has a
 * live consumer, and every consumer moves within `stallTimeoutMillis`. Pure, so it is tested alone;
 * the scheduler acts on what it returns (start a consumer, or reset one from its checkpoint).
 */
export function findStalls(leases: readonly WatchedLease[], stallTimeoutMillis: number, now: number): Stall[] {
  const stalls: Stall[] = []
  for (const lease of leases) {
    if (lease.finished) continue
    if (lease.consumer === undefined) {
      if (!lease.starting) stalls.push({ shardId: lease.shardId, reason: 'no-consumer', stalledForMillis: 0 })
      continue
    }
    const stalledForMillis = lease.consumer.stalledForMillis(now)
    if (stalledForMillis > stallTimeoutMillis)
      stalls.push({ shardId: lease.shardId, reason: 'no-progress', stalledForMillis })
  }
  return stalls
}

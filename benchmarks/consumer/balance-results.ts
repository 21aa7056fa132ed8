/** Figures of the KCL 3.x balance part, from the workers' lease reports (pure, so the arithmetic is tested). */
import type { WorkerEventOf } from './worker-protocol.js'

type Leases = WorkerEventOf<'leases'>

/** Java LeaseAssignmentDecider's reBalanceThresholdPercentage default: a worker within ±10% of the average is left alone. */
export const JAVA_REBALANCE_THRESHOLD_PERCENT = 10

/**
 * The lease counts a worker may hold in a balanced fleet: the average ± the threshold, widened to the
 * nearest whole counts around the average when no whole count lies in that band (8 leases on 3 workers).
 */
export function balancedRange(shards: number, workers: number, thresholdPercent: number): [number, number] {
  const average = shards / workers
  const t = thresholdPercent / 100
  return [
    Math.min(Math.floor(average), Math.ceil(average * (1 - t))),
    Math.max(Math.ceil(average), Math.floor(average * (1 + t))),
  ]
}

export interface SplitState {
  /** Every shard held by exactly one worker, no other lease held. */
  readonly complete: boolean
  /** Complete, and every worker's count within balancedRange. */
  readonly balanced: boolean
}

export function splitState(
  holdings: ReadonlyMap<string, readonly string[]>,
  workers: readonly string[],
  shards: readonly string[],
  thresholdPercent: number,
): SplitState {
  const held = workers.flatMap((w) => [...(holdings.get(w) ?? [])])
  const wanted = new Set(shards)
  const complete =
    held.length === shards.length && new Set(held).size === held.length && held.every((s) => wanted.has(s))
  const [low, high] = balancedRange(shards.length, workers.length, thresholdPercent)
  const counts = workers.map((w) => holdings.get(w)?.length ?? 0)
  return { complete, balanced: complete && counts.every((c) => c >= low && c <= high) }
}

export interface BalanceTimes {
  /** ms from `from` to the first moment every shard was held once (undefined: never). */
  readonly completeMs: number | undefined
  /** ms from `from` to the first moment the split was balanced (undefined: never). */
  readonly balancedMs: number | undefined
  /** The lease counts at the end of the reports, by worker. */
  readonly finalCounts: readonly number[]
}

/**
 * Replays every worker's lease reports in time order (each replaces that worker's holding) and finds the
 * first moments the split was complete and balanced.
 */
export function balanceTimes(
  reports: readonly Leases[],
  workers: readonly string[],
  shards: readonly string[],
  from: number,
  thresholdPercent = JAVA_REBALANCE_THRESHOLD_PERCENT,
): BalanceTimes {
  const holdings = new Map<string, readonly string[]>()
  let completeMs: number | undefined
  let balancedMs: number | undefined
  for (const report of [...reports].sort((a, b) => a.at - b.at)) {
    holdings.set(report.workerId, report.leases)
    const state = splitState(holdings, workers, shards, thresholdPercent)
    const ms = Math.max(0, report.at - from)
    if (state.complete && completeMs === undefined) completeMs = ms
    if (state.balanced && balancedMs === undefined) balancedMs = ms
  }
  return { completeMs, balancedMs, finalCounts: workers.map((w) => holdings.get(w)?.length ?? 0) }
}

/** Figures of the handoff part, from the workers' events (pure, so the arithmetic is tested). */
import type { WorkerEventOf } from './worker-protocol.js'

type Batch = WorkerEventOf<'batch'>
type Checkpointed = WorkerEventOf<'checkpointed'>
type Leases = WorkerEventOf<'leases'>

/**
 * For each shard, ms from `from` to its first batch in `batches` (the other workers' batches) at or after
 * `from`; absent when none came.
 */
export function resumeTimes(batches: readonly Batch[], shards: readonly string[], from: number): Map<string, number> {
  const wanted = new Set(shards)
  const out = new Map<string, number>()
  for (const batch of batches) {
    if (!wanted.has(batch.shardId) || batch.at < from) continue
    const ms = batch.at - from
    if (ms < (out.get(batch.shardId) ?? Number.POSITIVE_INFINITY)) out.set(batch.shardId, ms)
  }
  return out
}

/**
 * For each shard, ms from `from` to the first lease report (`leases`, the other workers') holding it at
 * or after `from`: detection and take, without the reading that follows. Reports come every 50 ms at most.
 */
export function heldTimes(reports: readonly Leases[], shards: readonly string[], from: number): Map<string, number> {
  const out = new Map<string, number>()
  for (const report of reports) {
    if (report.at < from) continue
    for (const shardId of report.leases) {
      if (!shards.includes(shardId)) continue
      const ms = report.at - from
      if (ms < (out.get(shardId) ?? Number.POSITIVE_INFINITY)) out.set(shardId, ms)
    }
  }
  return out
}

export interface Redelivery {
  /** Records at or below a shard's shutdownRequested checkpoint that another worker processed after `from`. */
  readonly violations: number
  /** Handed-over shards with no checkpoint written in shutdownRequested (the call never came). */
  readonly missingCheckpoints: number
}

/**
 * Checks a graceful handoff: `checkpoints` are the departing worker's shutdownRequested checkpoints (a
 * shard on which nothing was delivered checkpoints nothing and bounds nothing), `batches` the others'.
 */
export function redeliveries(
  shards: readonly string[],
  checkpoints: readonly Checkpointed[],
  batches: readonly Batch[],
  from: number,
): Redelivery {
  const bound = new Map(checkpoints.map((c) => [c.shardId, c.sequenceNumber]))
  let violations = 0
  for (const batch of batches) {
    const checkpoint = bound.get(batch.shardId)
    if (checkpoint === undefined || batch.at < from) continue
    const limit = BigInt(checkpoint)
    violations += batch.sequenceNumbers.filter((s) => BigInt(s) <= limit).length
  }
  return { violations, missingCheckpoints: shards.filter((s) => !bound.has(s)).length }
}

/** Nearest rank: the smallest value with at least p% of the values at or below it (p100: the largest). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!
}

/** One round: the shards that had to move and how long each took (absent: not within the wait). */
export interface Round {
  readonly shards: readonly string[]
  readonly times: ReadonlyMap<string, number>
  /** How long until another worker reported holding each (see heldTimes). */
  readonly held: ReadonlyMap<string, number>
}

export interface CaseSummary {
  /** Rounds that broke off before the handoff was measured (the fleet never settled, a worker died): MISS. */
  readonly failedRounds: number
  readonly moved: number
  /** Shards that did not resume within the round's wait: each one is a MISS. */
  readonly unresumed: number
  readonly p50: number
  readonly p100: number
  readonly perRoundP100: readonly number[]
  /** Every shard's time, ascending. */
  readonly sorted: readonly number[]
  readonly heldP50: number
  readonly heldP100: number
  readonly targetMs: number
  readonly pass: boolean
}

/** p50 and p100 over every shard of every round, against a p100 target. */
export function summarize(rounds: readonly Round[], targetMs: number, failedRounds = 0): CaseSummary {
  const all = rounds.flatMap((r) => [...r.times.values()])
  const held = rounds.flatMap((r) => [...r.held.values()])
  const unresumed = rounds.reduce((n, r) => n + r.shards.filter((s) => !r.times.has(s)).length, 0)
  const p100 = percentile(all, 100)
  return {
    failedRounds,
    moved: rounds.reduce((n, r) => n + r.shards.length, 0),
    unresumed,
    p50: percentile(all, 50),
    p100,
    perRoundP100: rounds.map((r) => percentile([...r.times.values()], 100)),
    sorted: [...all].sort((a, b) => a - b),
    heldP50: percentile(held, 50),
    heldP100: percentile(held, 100),
    targetMs,
    pass: failedRounds === 0 && all.length > 0 && unresumed === 0 && p100 <= targetMs,
  }
}

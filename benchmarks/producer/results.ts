import type { ContenderReport } from './contenders/feeder.js'
import type { EndpointReport } from './limits/endpoint.js'

/** A rate over the part of a run that counts. */
export interface SteadyRate {
  /** Delivered records per second, less their share of the burst the window drained. */
  readonly recordsPerSecond: number
  /** Metered bytes (data + partition keys) per second, less what the window drained from the buckets' burst. */
  readonly bytesPerSecond: number
  readonly seconds: number
  /**
   * 'steady': after the first second (the buckets' burst) and while the caller still had records to offer.
   * 'to last write' / 'whole run': the run was too short for that window, so a wider one was used.
   */
  readonly window: 'steady' | 'to last write' | 'whole run'
  /** Bytes the buckets held at the window's start and no longer at its end: burst, not sustained throughput. */
  readonly burstDrainedBytes: number
}

/** The shards' byte buckets, summed: what they hold when full, how fast they refill, their level over time. */
export interface BurstLevels {
  readonly fullBytes: number
  readonly bytesPerMs: number
  /** (time, bytes held) after each request, in time order. */
  readonly levels: readonly number[]
}

/** Bytes the buckets held at `at`: the level after the last request before it, refilled since, at most full. */
export function burstLevelAt(burst: BurstLevels, at: number): number {
  let low = 0
  let high = burst.levels.length / 2 - 1
  while (low <= high) {
    const mid = (low + high) >>> 1
    if (burst.levels[mid * 2]! <= at) low = mid + 1
    else high = mid - 1
  }
  if (high < 0) return burst.fullBytes
  const since = at - burst.levels[high * 2]!
  return Math.min(burst.fullBytes, burst.levels[high * 2 + 1]! + since * burst.bytesPerMs)
}

export interface RunResult {
  readonly contender: string
  /** Distinct records the endpoint accepted. */
  readonly delivered: number
  readonly steady: SteadyRate
  /** Sustained metered bytes/s (burst deducted) over the shards' byte rate. */
  readonly capacityShare: number
  /** ProvisionedThroughputExceeded answers (bucket short or injected) per delivered record. */
  readonly throttlesPerRecord: number
  /** Only those refused because a bucket was short, per delivered record. */
  readonly overLimitPerRecord: number
  readonly injectedErrors: number
  readonly orderViolations: number
  readonly duplicates: number
  readonly wrongShard: number
  /** Reported written but never accepted, plus never settled. */
  readonly lost: number
  readonly unsettled: number
  /** Settled as failed by the contender (not lost: the caller was told). */
  readonly failed: number
  readonly foreign: number
  readonly cpuMicrosPerRecord: number
  readonly peakRssMb: number
  readonly peakHeapMb: number
  readonly peakExternalMb: number
  /** Why the contender is not ranked: it loses records, misroutes them, or stopped. */
  readonly disqualified: string | undefined
  readonly unknownOperations: Readonly<Record<string, number>>
}

/**
 * Records and bytes per second accepted between the end of the first burst period after the first PutRecords
 * (the buckets start full, so that second can take twice the rate) and the moment the caller offered its
 * last record (after it, the contender drains and no longer has all it could send). Whatever the window took
 * out of the burst left at its start (the buckets' net drain over it) is deducted: it cannot be sustained.
 */
export function steadyRate(
  timeline: readonly number[],
  firstPutAt: number,
  lastOfferAt: number,
  burstMs: number,
  burst: BurstLevels,
): SteadyRate {
  const lastWriteAt = timeline.length > 0 ? timeline[timeline.length - 3]! : firstPutAt
  let from = firstPutAt + burstMs
  let to = lastOfferAt
  let window: SteadyRate['window'] = 'steady'
  if (to - from < burstMs) {
    to = lastWriteAt
    window = 'to last write'
  }
  if (to - from < burstMs / 2) {
    // Too short to leave the burst out: every write counts, from the first request on.
    from = firstPutAt - 1
    to = lastWriteAt
    window = 'whole run'
  }
  let records = 0
  let bytes = 0
  for (let i = 0; i < timeline.length; i += 3) {
    const at = timeline[i]!
    if (at <= from || at > to) continue
    records += timeline[i + 1]!
    bytes += timeline[i + 2]!
  }
  const seconds = Math.max(to - from, 1) / 1000
  const drained = Math.max(0, burstLevelAt(burst, from) - burstLevelAt(burst, to))
  const sustainedBytes = Math.max(0, bytes - drained)
  const sustainedRecords = bytes === 0 ? records : (records * sustainedBytes) / bytes
  return {
    recordsPerSecond: sustainedRecords / seconds,
    bytesPerSecond: sustainedBytes / seconds,
    seconds,
    window,
    burstDrainedBytes: Math.min(drained, bytes),
  }
}

/** Records the contender reported written that the endpoint never accepted. */
export function reportedButMissing(successes: Uint8Array, accepted: Uint8Array): number {
  let missing = 0
  for (let i = 0; i < successes.length; i++) {
    let bits = successes[i]! & ~accepted[i]!
    while (bits !== 0) {
      missing += bits & 1
      bits >>>= 1
    }
  }
  return missing
}

/** One contender's run, from both sides: what it reported and what the endpoint saw. */
export function summarize(name: string, contender: ContenderReport, endpoint: EndpointReport): RunResult {
  const { ledger, counters, limits } = endpoint
  const steady = steadyRate(
    ledger.timeline,
    counters.firstPutAt ?? contender.firstOfferAt,
    contender.lastOfferAt,
    limits.burstSeconds * 1000,
    {
      fullBytes: endpoint.shards * endpoint.bucketBytes,
      bytesPerMs: (endpoint.shards * limits.bytesPerSecond) / 1000,
      levels: endpoint.burstLevels,
    },
  )
  const delivered = ledger.delivered
  const missing = reportedButMissing(Buffer.from(contender.successes, 'base64'), ledger.accepted)
  const lost = missing + contender.unsettled
  const perRecord = (count: number) => (delivered === 0 ? 0 : count / delivered)
  const disqualified =
    contender.error !== undefined
      ? `stopped: ${contender.error}`
      : lost > 0
        ? 'loses records'
        : ledger.wrongShard > 0
          ? 'wrong shard'
          : undefined
  return {
    contender: name,
    delivered,
    steady,
    capacityShare: steady.bytesPerSecond / (endpoint.shards * limits.bytesPerSecond),
    throttlesPerRecord: perRecord(counters.throttledByLimit + counters.throttledInjected),
    overLimitPerRecord: perRecord(counters.throttledByLimit),
    injectedErrors: counters.injectedErrors,
    orderViolations: ledger.orderViolations,
    duplicates: ledger.duplicates,
    wrongShard: ledger.wrongShard,
    lost,
    unsettled: contender.unsettled,
    failed: contender.failed,
    foreign: ledger.foreign,
    cpuMicrosPerRecord: delivered === 0 ? Number.POSITIVE_INFINITY : contender.cpuMicros / delivered,
    peakRssMb: contender.peakRssMb,
    peakHeapMb: contender.peakHeapMb,
    peakExternalMb: contender.peakExternalMb,
    disqualified,
    unknownOperations: counters.unknownOperations,
  }
}

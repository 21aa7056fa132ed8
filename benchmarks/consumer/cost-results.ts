/** Figures of the cost part, from the workers' DynamoDB tallies (pure, so the arithmetic is tested). */
import type { DynamoTally, RequestTally } from './worker-protocol.js'

const READ_KINDS = /^(GetItem|Scan|Query):(consistent|eventual)$/
const WRITE_KINDS = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem'])
const HOUR_MS = 3_600_000

/** Java KCL 2.x at its defaults: renewal every failover/3 - epsilon, a lease scan every 2 × (failover + epsilon). */
export const JAVA_KCL2 = Object.freeze({ renewalMs: 3_300, scanMs: 20_050 })
/** The issue's figures for kinesis-ts before the expiry watch. */
export const ISSUE_BEFORE = Object.freeze({ writesPerLeaseHour: 1_080, readsPerWorkerHour: 180 })
/** The issue's rule: the read cost may rise at most this much at 4 workers × 16 leases. */
export const READ_COST_RISE_LIMIT = 1.25

export function sumTallies(tallies: readonly DynamoTally[]): DynamoTally {
  const out: DynamoTally = {}
  for (const tally of tallies) {
    for (const [kind, t] of Object.entries(tally)) {
      const sum: RequestTally = out[kind] ?? { requests: 0, failed: 0, units: 0 }
      sum.requests += t.requests
      sum.failed += t.failed
      sum.units += t.units
      out[kind] = sum
    }
  }
  return out
}

/** What `after` counted beyond `before` (both cumulative tallies of the same workers). */
export function diffTally(before: DynamoTally, after: DynamoTally): DynamoTally {
  const out: DynamoTally = {}
  for (const [kind, t] of Object.entries(after)) {
    const b = before[kind] ?? { requests: 0, failed: 0, units: 0 }
    out[kind] = { requests: t.requests - b.requests, failed: t.failed - b.failed, units: t.units - b.units }
  }
  return out
}

export interface CostSample {
  readonly workers: number
  readonly leases: number
  readonly windowMs: number
  /** Every worker's requests over the window, summed. */
  readonly tally: DynamoTally
  /**
   * dynalite 4.0.0 drops ConsistentRead from a Scan (its Scan validation does not know the field), so it
   * prices every Scan as eventually consistent; DynamoDB charges a consistent Scan twice that.
   */
  readonly consistentScansPricedAsEventual: boolean
  /** Each worker's share of `tally`, by worker id. */
  readonly byWorker?: Readonly<Record<string, DynamoTally>>
}

export interface CostFigures {
  readonly writesPerLeaseHour: number
  readonly writesPerWorkerHour: number
  readonly readsPerLeaseHour: number
  readonly readsPerWorkerHour: number
  readonly consistentReadsPerWorkerHour: number
  readonly eventualReadsPerWorkerHour: number
  /** Read capacity units (on-demand: read request units): 4 KB per unit, eventually consistent half. */
  readonly readUnitsPerWorkerHour: number
  readonly readUnitsPerLeaseHour: number
  /** Write units, a failed conditional write counted as one (DynamoDB charges it; items are under 1 KB). */
  readonly writeUnitsPerLeaseHour: number
  readonly failedRequests: number
}

const sum = (tally: DynamoTally, keep: (kind: string) => boolean, field: keyof RequestTally) =>
  Object.entries(tally)
    .filter(([kind]) => keep(kind))
    .reduce((n, [, t]) => n + t[field], 0)

/** The tally with its units as DynamoDB bills them (consistent Scans repriced when the backend halved them). */
export function billed(sample: Pick<CostSample, 'tally' | 'consistentScansPricedAsEventual'>): DynamoTally {
  const scans = sample.tally['Scan:consistent']
  if (!sample.consistentScansPricedAsEventual || scans === undefined) return sample.tally
  return { ...sample.tally, 'Scan:consistent': { ...scans, units: scans.units * 2 } }
}

export function costFigures(sample: CostSample): CostFigures {
  const { workers, leases } = sample
  const tally = billed(sample)
  const hours = sample.windowMs / HOUR_MS
  const isRead = (kind: string) => READ_KINDS.test(kind)
  const isWrite = (kind: string) => WRITE_KINDS.has(kind)
  const writes = sum(tally, isWrite, 'requests')
  const reads = sum(tally, isRead, 'requests')
  const readUnits = sum(tally, isRead, 'units')
  const writeUnits = sum(tally, isWrite, 'units') + sum(tally, isWrite, 'failed')
  return {
    writesPerLeaseHour: writes / leases / hours,
    writesPerWorkerHour: writes / workers / hours,
    readsPerLeaseHour: reads / leases / hours,
    readsPerWorkerHour: reads / workers / hours,
    consistentReadsPerWorkerHour:
      sum(tally, (k) => isRead(k) && k.endsWith(':consistent'), 'requests') / workers / hours,
    eventualReadsPerWorkerHour: sum(tally, (k) => isRead(k) && k.endsWith(':eventual'), 'requests') / workers / hours,
    readUnitsPerWorkerHour: readUnits / workers / hours,
    readUnitsPerLeaseHour: readUnits / leases / hours,
    writeUnitsPerLeaseHour: writeUnits / leases / hours,
    failedRequests: sum(tally, () => true, 'failed'),
  }
}

/**
 * Read units of one eventually consistent full scan of the table, from the scans a sample counted: its
 * eventually consistent scans if it made any, else half its consistent ones (the same items, same rounding).
 */
export function unitsPerEventualScan(sample: Pick<CostSample, 'tally' | 'consistentScansPricedAsEventual'>): number {
  const tally = billed(sample)
  const eventual = tally['Scan:eventual']
  if (eventual !== undefined && eventual.requests > 0) return eventual.units / eventual.requests
  const consistent = tally['Scan:consistent']
  if (consistent !== undefined && consistent.requests > 0) return consistent.units / consistent.requests / 2
  return Number.NaN
}

/**
 * The Java KCL 2.x's figures at its defaults, computed: a renewal (one write unit) per lease every 3.3 s, an
 * eventually consistent full scan per worker every 20.05 s (its ScanRequest sets no ConsistentRead).
 */
export function javaKcl2Figures(workers: number, leases: number, scanUnits: number): CostFigures {
  const writesPerLeaseHour = HOUR_MS / JAVA_KCL2.renewalMs
  const scansPerWorkerHour = HOUR_MS / JAVA_KCL2.scanMs
  return {
    writesPerLeaseHour,
    writesPerWorkerHour: (writesPerLeaseHour * leases) / workers,
    readsPerLeaseHour: (scansPerWorkerHour * workers) / leases,
    readsPerWorkerHour: scansPerWorkerHour,
    consistentReadsPerWorkerHour: 0,
    eventualReadsPerWorkerHour: scansPerWorkerHour,
    readUnitsPerWorkerHour: scansPerWorkerHour * scanUnits,
    readUnitsPerLeaseHour: (scansPerWorkerHour * scanUnits * workers) / leases,
    writeUnitsPerLeaseHour: writesPerLeaseHour,
    failedRequests: 0,
  }
}

export interface ReadCostRule {
  /** Defaults over watch off, in read units (what DynamoDB bills). */
  readonly unitsRatio: number
  /** The same in read requests, for reference only. */
  readonly requestsRatio: number
  readonly pass: boolean
}

export function readCostRule(defaults: CostFigures, watchOff: CostFigures): ReadCostRule {
  const unitsRatio = defaults.readUnitsPerWorkerHour / watchOff.readUnitsPerWorkerHour
  return {
    unitsRatio,
    requestsRatio: defaults.readsPerWorkerHour / watchOff.readsPerWorkerHour,
    pass: unitsRatio <= READ_COST_RISE_LIMIT,
  }
}

export interface RoleFigures {
  /** The leader's requests alone, per its worker-hour (per lease-hour: over every lease of the table). */
  readonly leader: CostFigures
  /** The other workers' requests, per worker-hour averaged over them. */
  readonly followers: CostFigures
}

/** A KCL 3.x fleet's figures split into the leader's and the followers' (the leader does the table-wide work). */
export function roleFigures(sample: CostSample, leaderId: string): RoleFigures {
  const byWorker = sample.byWorker ?? {}
  const others = Object.entries(byWorker).filter(([id]) => id !== leaderId)
  return {
    leader: costFigures({ ...sample, workers: 1, tally: byWorker[leaderId] ?? {} }),
    followers: costFigures({ ...sample, workers: others.length, tally: sumTallies(others.map(([, t]) => t)) }),
  }
}

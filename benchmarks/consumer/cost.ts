/**
 * DynamoDB cost at the defaults: a fleet of worker processes on an idle stream (no record, so no checkpoint:
 * only lease traffic), each counting its requests at its client; the tallies are read at the start and the
 * end of a window once every worker holds the leases it was seeded with.
 */
import { randomUUID } from 'node:crypto'
import type { Shard } from '@aws-sdk/client-kinesis'
import { CONSUMER_DEFAULTS } from '@kinesis-ts/consumer'
import { sleep } from '@kinesis-ts/shared'
import { printTable } from '../lib/table.js'
import {
  type CostFigures,
  type CostSample,
  ISSUE_BEFORE,
  JAVA_KCL2,
  READ_COST_RISE_LIMIT,
  costFigures,
  diffTally,
  javaKcl2Figures,
  readCostRule,
  sumTallies,
  unitsPerEventualScan,
} from './cost-results.js'
import type { Backends } from './handoff.js'
import { leaseTableShapeFor, seedLeaseTable } from './lease-seed.js'
import { fleetConfigs, mustReach, startFleet, stopFleet } from './worker-fleet.js'
import type { WorkerConfig } from './worker-protocol.js'

export interface CostScenario {
  readonly stream: string
  readonly shards: readonly Shard[]
  readonly workers: number
  readonly windowMs: number
}

/** After every worker holds its leases: its first taker round and table checks are behind it. */
const WARM_UP_MS = 5_000

/** One setting's DynamoDB tally over the window, the fleet on a seeded, balanced table (`table`: its name). */
export async function costSample(
  backends: Backends,
  scenario: CostScenario,
  options: WorkerConfig['options'],
  /** false: a lease changing hands in the window is reported (`steady`), not an error (the 3.x leader rebalances). */
  requireSteady = true,
): Promise<CostSample & { readonly table: string; readonly steady: boolean }> {
  const app = `bench-cost-${randomUUID().slice(0, 8)}`
  const ids = Array.from({ length: scenario.workers }, (_, i) => `w${i}`)
  const assigned = await seedLeaseTable(backends.dynamodb, app, scenario.shards, ids, leaseTableShapeFor(options))
  const workers = await startFleet(
    fleetConfigs(backends, { streamName: scenario.stream, applicationName: app, options }, ids),
  )
  try {
    const holding = () => workers.every((w) => w.leases().join() === [...assigned.get(w.id)!].sort().join())
    await mustReach('every worker holding the leases it was seeded with', holding, 60_000)
    await sleep(WARM_UP_MS)
    const before = await Promise.all(workers.map((w) => w.report()))
    const started = performance.now()
    await sleep(scenario.windowMs)
    const after = await Promise.all(workers.map((w) => w.report()))
    const windowMs = performance.now() - started
    const steady = holding()
    if (!steady && requireSteady)
      throw new Error('a lease changed hands during the cost window: the figures would not be steady')
    const byWorker = Object.fromEntries(workers.map((w, i) => [w.id, diffTally(before[i]!.tally, after[i]!.tally)]))
    return {
      workers: scenario.workers,
      leases: scenario.shards.length,
      windowMs,
      tally: diffTally(sumTallies(before.map((r) => r.tally)), sumTallies(after.map((r) => r.tally))),
      consistentScansPricedAsEventual: backends.dynalite,
      byWorker,
      table: app,
      steady,
    }
  } finally {
    await stopFleet(workers)
  }
}

export interface CostResult {
  readonly defaults: CostSample
  readonly watchOff: CostSample
}

export async function measureCost(backends: Backends, scenario: CostScenario): Promise<CostResult> {
  const defaults = await costSample(backends, scenario, undefined)
  const watchOff = await costSample(backends, scenario, { leaseExpiryWatchIntervalMillis: 0 })
  return { defaults, watchOff }
}

export const n = (value: number) =>
  value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toLocaleString('en-US', { maximumFractionDigits: 1 })

export function printCost(scenario: CostScenario, result: CostResult): void {
  const failover = CONSUMER_DEFAULTS.failoverTimeMillis
  const watchMs = Math.floor(failover / CONSUMER_DEFAULTS.leaseExpiryWatchDivisor)
  const takerMs = (failover + CONSUMER_DEFAULTS.epsilonMillis) * CONSUMER_DEFAULTS.leaseTakerIntervalFactor
  const defaults = costFigures(result.defaults)
  const watchOff = costFigures(result.watchOff)
  const scanUnits = unitsPerEventualScan(result.watchOff)
  const java = javaKcl2Figures(scenario.workers, scenario.shards.length, scanUnits)
  const rows: [string, CostFigures][] = [
    [`kinesis-ts defaults (expiry watch every ${watchMs} ms, eventually consistent)`, defaults],
    ['kinesis-ts, leaseExpiryWatchIntervalMillis 0 (watch off: the previous behaviour)', watchOff],
    [
      `Java KCL 2.x, computed (renew every ${JAVA_KCL2.renewalMs / 1000} s, a Scan every ${JAVA_KCL2.scanMs / 1000} s)`,
      java,
    ],
  ]
  const seconds = `${Math.round(result.defaults.windowMs / 1000)} s and ${Math.round(result.watchOff.windowMs / 1000)} s`
  const title = `DynamoDB at the defaults: idle stream, ${scenario.workers} workers × ${scenario.shards.length} leases, ${seconds} counted`
  printTable(
    `${title}: requests`,
    [
      'setting',
      'writes/lease-h',
      'writes/worker-h',
      'reads/lease-h',
      'reads/worker-h',
      'consistent/worker-h',
      'eventual/worker-h',
    ],
    rows.map(([name, f]) => [
      name,
      n(f.writesPerLeaseHour),
      n(f.writesPerWorkerHour),
      n(f.readsPerLeaseHour),
      n(f.readsPerWorkerHour),
      n(f.consistentReadsPerWorkerHour),
      n(f.eventualReadsPerWorkerHour),
    ]),
  )
  printTable(
    `${title}: capacity units, as the backend reported them (ReturnConsumedCapacity)${result.defaults.consistentScansPricedAsEventual ? '; consistent Scans counted twice, dynalite prices every Scan as eventually consistent' : ''}`,
    ['setting', 'RCU/worker-h', 'RCU/lease-h', 'WCU/lease-h', 'failed requests'],
    rows.map(([name, f]) => [
      name,
      n(f.readUnitsPerWorkerHour),
      n(f.readUnitsPerLeaseHour),
      n(f.writeUnitsPerLeaseHour),
      String(f.failedRequests),
    ]),
  )
  console.log(
    `\nthe issue's figures before the watch: ${n(ISSUE_BEFORE.writesPerLeaseHour)} writes per lease-hour, ${n(ISSUE_BEFORE.readsPerWorkerHour)} reads per worker-hour (the taker's Scan every ${takerMs} ms)`,
  )
  console.log(
    `one full Scan of this ${scenario.shards.length}-lease table: ${n(scanUnits * 2)} RCU consistent, ${n(scanUnits)} eventually consistent (DynamoDB rounds each page up to 4 KB)`,
  )
  const rule = readCostRule(defaults, watchOff)
  console.log(
    `read cost, defaults vs watch off, measured in read capacity units (RCU: what DynamoDB bills, 4 KB per unit, eventually consistent half): ${rule.unitsRatio.toFixed(2)}x` +
      ` — "read cost rises at most 25% at ${scenario.workers} workers × ${scenario.shards.length} leases" (≤ ${READ_COST_RISE_LIMIT.toFixed(2)}x) ${rule.pass ? 'PASS' : 'MISS'}`,
  )
  console.log(`(in read requests, not the measure of that line: ${rule.requestsRatio.toFixed(2)}x)`)
}

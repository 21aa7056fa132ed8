/**
 * The consumer benchmark in the KCL 3.x mode (clientVersionConfig '3x', nothing else set): the time a cold
 * fleet takes to spread the shards within Java's rebalance threshold, the handoff part's crash (of a
 * non-leader and of the leader) and graceful rounds, and the DynamoDB cost next to the 2.x mode's, measured
 * in the same run on the same backends.
 */
import { randomUUID } from 'node:crypto'
import type { Shard } from '@aws-sdk/client-kinesis'
import { printTable } from '../lib/table.js'
import { JAVA_REBALANCE_THRESHOLD_PERCENT, balanceTimes, balancedRange, splitState } from './balance-results.js'
import { type CostFigures, type RoleFigures, costFigures, roleFigures } from './cost-results.js'
import { type CostScenario, costSample, n } from './cost.js'
import { percentile } from './handoff-results.js'
import { type Backends, measureHandoff, printHandoff } from './handoff.js'
import { leaderOf } from './leader.js'
import { startPutLoop } from './put-loop.js'
import { fleetConfigs, startFleet, stopFleet, until } from './worker-fleet.js'
import type { WorkerConfig } from './worker-protocol.js'

export const KCL3_OPTIONS: NonNullable<WorkerConfig['options']> = { clientVersionConfig: '3x' }

export interface Kcl3Scenario {
  readonly stream: string
  readonly shards: readonly Shard[]
  readonly workers: number
  readonly rounds: number
  readonly putIntervalMs: number
  /** How long a cold fleet may take to balance before the round counts as not balanced. */
  readonly balanceWaitMs: number
  readonly leaderCrashRounds: number
}

interface BalanceRound {
  readonly completeMs: number | undefined
  readonly balancedMs: number | undefined
  readonly finalCounts: readonly number[]
}

/** Cold start: no lease table; the workers create it, the leader creates the leases and assigns them. */
async function balanceRound(backends: Backends, scenario: Kcl3Scenario): Promise<BalanceRound> {
  const app = `bench-kcl3-cold-${randomUUID().slice(0, 8)}`
  const ids = Array.from({ length: scenario.workers }, (_, i) => `w${i}`)
  const shardIds = scenario.shards.map((s) => s.ShardId!)
  const workers = await startFleet(
    fleetConfigs(backends, { streamName: scenario.stream, applicationName: app, options: KCL3_OPTIONS }, ids),
  )
  try {
    const from = Math.min(...workers.map((w) => w.startSentAt ?? Date.now()))
    const latest = () => new Map(workers.map((w) => [w.id, w.leases()]))
    const balanced = () => splitState(latest(), ids, shardIds, JAVA_REBALANCE_THRESHOLD_PERCENT).balanced
    await until(balanced, scenario.balanceWaitMs)
    const reports = workers.flatMap((w) => w.of('leases'))
    return balanceTimes(reports, ids, shardIds, from)
  } finally {
    await stopFleet(workers)
  }
}

export interface Kcl3BalanceResult {
  readonly rounds: readonly BalanceRound[]
  readonly failures: readonly string[]
}

export async function measureBalance(backends: Backends, scenario: Kcl3Scenario): Promise<Kcl3BalanceResult> {
  const puts = startPutLoop(backends.kinesis, scenario.stream, scenario.shards, scenario.putIntervalMs)
  const rounds: BalanceRound[] = []
  const failures: string[] = []
  try {
    for (let i = 0; i < scenario.rounds; i++) {
      try {
        rounds.push(await balanceRound(backends, scenario))
      } catch (error) {
        failures.push(error instanceof Error ? error.message : String(error))
      }
    }
  } finally {
    await puts.stop()
  }
  return { rounds, failures }
}

const ms = (value: number | undefined) => (value === undefined ? '—' : Math.round(value).toLocaleString('en-US'))

export function printBalance(scenario: Kcl3Scenario, result: Kcl3BalanceResult): void {
  const [low, high] = balancedRange(scenario.shards.length, scenario.workers, JAVA_REBALANCE_THRESHOLD_PERCENT)
  printTable(
    `KCL 3.x mode, cold start (no lease table) to balanced: ${scenario.workers} workers × ${scenario.shards.length} shards, ` +
      `one record per shard every ${scenario.putIntervalMs} ms. Balanced = every shard held by exactly one worker and every worker ` +
      `holding ${low === high ? low : `${low}–${high}`} leases (the average ± Java's reBalanceThresholdPercentage ${JAVA_REBALANCE_THRESHOLD_PERCENT}%), from the workers' lease reports (every 50 ms)`,
    ['round', 'every shard held once (ms)', 'balanced (ms)', 'lease counts at the end', 'result'],
    result.rounds.map((r, i) => [
      String(i + 1),
      ms(r.completeMs),
      ms(r.balancedMs),
      r.finalCounts.join('-'),
      r.balancedMs === undefined ? `MISS (not balanced within ${ms(scenario.balanceWaitMs)} ms)` : 'balanced',
    ]),
  )
  const done = result.rounds.flatMap((r) => (r.balancedMs === undefined ? [] : [r.balancedMs]))
  console.log(
    `\nbalanced in ${done.length} of ${result.rounds.length + result.failures.length} rounds; time to balanced p50 ${ms(percentile(done, 50))}, p100 ${ms(percentile(done, 100))} ms`,
  )
  for (const failure of result.failures) console.log(`round broke off (MISS): ${failure}`)
}

export async function measureKcl3Handoff(backends: Backends, scenario: Kcl3Scenario): Promise<void> {
  const handoff = { ...scenario, options: KCL3_OPTIONS }
  printHandoff(handoff, await measureHandoff(backends, handoff))
}

export interface ModeCost {
  readonly twoX: CostFigures
  readonly threeX: CostFigures
  /** The 3.x fleet's leader and followers apart. */
  readonly roles: RoleFigures
  readonly windowMs: readonly [number, number]
  /** The 3.x fleet kept its seeded split through the window (its leader may rebalance on the CPU metric). */
  readonly threeXSteady: boolean
}

/** The 2.x defaults and the 3.x mode, one after the other on the same idle stream and seeded split. */
export async function measureModeCost(backends: Backends, scenario: CostScenario): Promise<ModeCost> {
  const twoX = await costSample(backends, scenario, undefined)
  const threeX = await costSample(backends, scenario, KCL3_OPTIONS, false)
  // A SIGKILLed leader leaves the lock item naming it, so it is still there to read.
  const leader = await leaderOf(backends.dynamodb, threeX.table, 5_000)
  return {
    twoX: costFigures(twoX),
    threeX: costFigures(threeX),
    roles: roleFigures(threeX, leader),
    windowMs: [twoX.windowMs, threeX.windowMs],
    threeXSteady: threeX.steady,
  }
}

export function printModeCost(scenario: CostScenario, result: ModeCost): void {
  const rows: [string, CostFigures][] = [
    ['2.x mode (no clientVersionConfig, a Java 2.x table)', result.twoX],
    ["3.x mode (clientVersionConfig '3x'; the fleet's leader included)", result.threeX],
  ]
  const seconds = result.windowMs.map((w) => `${Math.round(w / 1000)} s`).join(' and ')
  printTable(
    `DynamoDB per mode at the defaults: idle stream, ${scenario.workers} workers × ${scenario.shards.length} leases, ${seconds} counted, every worker's requests (consistent Scans repriced as DynamoDB bills them)`,
    [
      'mode',
      'writes/lease-h',
      'writes/worker-h',
      'reads/lease-h',
      'reads/worker-h',
      'RCU/worker-h',
      'RCU/lease-h',
      'WCU/lease-h',
      'failed requests',
    ],
    rows.map(([name, f]) => [
      name,
      n(f.writesPerLeaseHour),
      n(f.writesPerWorkerHour),
      n(f.readsPerLeaseHour),
      n(f.readsPerWorkerHour),
      n(f.readUnitsPerWorkerHour),
      n(f.readUnitsPerLeaseHour),
      n(f.writeUnitsPerLeaseHour),
      String(f.failedRequests),
    ]),
  )

  if (!result.threeXSteady)
    console.log(
      '\n3.x: the leader moved leases during the window (balancing on the CPU metric); its writes are counted',
    )
  printTable(
    'The 3.x mode by role, per worker-hour (the same window)',
    [
      'role',
      'writes/worker-h',
      'reads/worker-h',
      'consistent/worker-h',
      'eventual/worker-h',
      'RCU/worker-h',
      'failed requests',
    ],
    (
      [
        ['leader', result.roles.leader],
        [`followers (average of ${scenario.workers - 1})`, result.roles.followers],
      ] as const
    ).map(([name, f]) => [
      name,
      n(f.writesPerWorkerHour),
      n(f.readsPerWorkerHour),
      n(f.consistentReadsPerWorkerHour),
      n(f.eventualReadsPerWorkerHour),
      n(f.readUnitsPerWorkerHour),
      String(f.failedRequests),
    ]),
  )
}

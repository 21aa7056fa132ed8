/**
 * Handoff between worker processes at the KCL defaults: a fleet on a seeded, balanced lease table while
 * one record per shard is put every interval; then one worker is SIGKILLed (crash) or told to shut down
 * (graceful), and for each of its shards the time to that shard's next record processed on another worker
 * is read from the workers' own timestamps.
 */
import { randomUUID } from 'node:crypto'
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import type { KinesisClient, Shard } from '@aws-sdk/client-kinesis'
import { CONSUMER_DEFAULTS } from '@kinesis-ts/consumer'
import { sleep } from '@kinesis-ts/shared'
import { printTable } from '../lib/table.js'
import { diffTally, sumTallies } from './cost-results.js'
import { type CaseSummary, type Round, heldTimes, redeliveries, resumeTimes, summarize } from './handoff-results.js'
import { DEFAULT_LEADER_LEASE_DURATION_MS } from './leader.js'
import { leaderOf } from './leader.js'
import { leaseTableShapeFor, seedLeaseTable } from './lease-seed.js'
import { startPutLoop } from './put-loop.js'
import { type WorkerProcess, fleetConfigs, mustReach, startFleet, stopFleet, until } from './worker-fleet.js'
import type { WorkerConfig } from './worker-protocol.js'

export interface Backends {
  readonly kinesis: KinesisClient
  readonly dynamodb: DynamoDBClient
  readonly kinesisEndpoint: string
  readonly dynamodbEndpoint: string
  /** The DynamoDB endpoint is the dynalite started here (not one given by DYNAMODB_ENDPOINT). */
  readonly dynalite: boolean
}

export interface HandoffScenario {
  readonly stream: string
  readonly shards: readonly Shard[]
  readonly workers: number
  readonly rounds: number
  readonly putIntervalMs: number
  /** Worker options beyond the defaults (the KCL 3.x mode). */
  readonly options?: WorkerConfig['options']
  /** KCL 3.x mode: rounds that crash the leader (a TypeScript leader's fast lease: failoverTimeMillis). */
  readonly leaderCrashRounds?: number
}

/** In the KCL 3.x mode: which worker a round takes away (in 2.x there is no leader, any holder goes). */
export type Leaving = 'any' | 'leader' | 'non-leader'

const FAILOVER = CONSUMER_DEFAULTS.failoverTimeMillis
const RENEWAL = FAILOVER / CONSUMER_DEFAULTS.leaseRenewerIntervalDivisor
export const CRASH_TARGET_MS = FAILOVER + 2_000
export const GRACEFUL_TARGET_MS = 2_000
/** How long a round waits for the moved shards before it counts the rest as not resumed. */
const RESUME_WAIT_MS = FAILOVER + 20_000
/**
 * After the leader's crash nobody assigns the dead worker's leases until another worker takes the leader
 * lock. A TypeScript leader's fast lease (failoverTimeMillis) lets its TypeScript followers do so within
 * failoverTimeMillis; the wait still allows for the Java lease (dynamoDbLockBasedLeaderLeaseDurationInMillis,
 * 120 s), so a regression shows as a MISS with its figure rather than a broken-off round.
 */
const LEADER_RESUME_WAIT_MS = DEFAULT_LEADER_LEASE_DURATION_MS + RESUME_WAIT_MS

/** How long a fleet may take to settle on the seeded split before any complete split is accepted. */
const SEEDED_SPLIT_WAIT_MS = 30_000
const SETTLE_WAIT_MS = 120_000

interface Fleet {
  readonly workers: WorkerProcess[]
  /**
   * Whether every worker held exactly what it was seeded with. Otherwise (a worker so slow to start that
   * its leases expired and went to others) the split was merely complete, and balancing may still move a
   * lease during the round.
   */
  readonly asSeeded: boolean
  /** The lease table (the application name). */
  readonly table: string
}

/** A fleet on a freshly seeded table, every shard held by one worker and processing. */
async function steadyFleet(backends: Backends, scenario: HandoffScenario, label: string): Promise<Fleet> {
  const app = `bench-${label}-${randomUUID().slice(0, 8)}`
  const ids = Array.from({ length: scenario.workers }, (_, i) => `w${i}`)
  const assigned = await seedLeaseTable(
    backends.dynamodb,
    app,
    scenario.shards,
    ids,
    leaseTableShapeFor(scenario.options),
  )
  const workers = await startFleet(
    fleetConfigs(
      backends,
      {
        streamName: scenario.stream,
        applicationName: app,
        options: scenario.options,
      },
      ids,
    ),
  )
  const startedAt = Date.now()
  const processing = (w: WorkerProcess) => w.leases().every((s) => (w.lastBatchAt.get(s) ?? 0) > startedAt)
  const complete = () => {
    const held = workers.flatMap((w) => [...w.leases()])
    return held.length === scenario.shards.length && new Set(held).size === held.length && workers.every(processing)
  }
  const seeded = () => complete() && workers.every((w) => w.leases().join() === [...assigned.get(w.id)!].sort().join())
  try {
    if (await until(seeded, SEEDED_SPLIT_WAIT_MS)) return { workers, asSeeded: true, table: app }
    await mustReach(`${label}: every shard held by one worker and processing`, complete, SETTLE_WAIT_MS)
    return { workers, asSeeded: false, table: app }
  } catch (error) {
    await stopFleet(workers)
    throw error
  }
}

const batchesOf = (workers: readonly WorkerProcess[], from: number) => workers.flatMap((w) => w.batchesSince(from))
const heldBy = (workers: readonly WorkerProcess[], shards: readonly string[], from: number) =>
  heldTimes(
    workers.flatMap((w) => w.of('leases')),
    shards,
    from,
  )

const LEADER_WAIT_MS = 30_000

/**
 * The first worker holding leases (w0 on the seeded split) leaves, or, in the KCL 3.x mode, the one holding
 * the leader lock or the first holder that does not; the rest are the others.
 */
async function pickLeaving(
  backends: Backends,
  fleet: Fleet,
  leaving: Leaving,
): Promise<[WorkerProcess, WorkerProcess[]]> {
  const { workers } = fleet
  const holds = (w: WorkerProcess) => w.leases().length > 0
  let chosen = workers.find(holds) ?? workers[0]!
  if (leaving !== 'any') {
    const leader = await leaderOf(backends.dynamodb, fleet.table, LEADER_WAIT_MS)
    const found =
      leaving === 'leader' ? workers.find((w) => w.id === leader) : workers.find((w) => w.id !== leader && holds(w))
    if (found === undefined) throw new Error(`no ${leaving} worker to take away (leader: ${leader})`)
    chosen = found
  }
  return [chosen, workers.filter((w) => w !== chosen)]
}

interface CrashRound extends Round {
  readonly asSeeded: boolean
  /**
   * Conditional writes the survivors sent that failed, from the kill to the last shard resumed: takes
   * that lost the race to another survivor's (a scheduled take fires on every worker that saw the
   * lease, the first one's wins). DynamoDB bills each a write unit.
   */
  readonly failedWrites?: number
}

/** Failed UpdateItems of the workers since `before` (their tallies then). */
async function failedUpdatesSince(
  workers: readonly WorkerProcess[],
  before: Awaited<ReturnType<WorkerProcess['report']>>[],
) {
  const after = await Promise.all(workers.map((w) => w.report()))
  const diff = diffTally(sumTallies(before.map((r) => r.tally)), sumTallies(after.map((r) => r.tally)))
  return diff.UpdateItem?.failed ?? 0
}

/** SIGKILL one worker at a random point of its renewal cycle; its shards' resume times on the others. */
async function crashRound(backends: Backends, scenario: HandoffScenario, leaving: Leaving): Promise<CrashRound> {
  const fleet = await steadyFleet(backends, scenario, 'crash')
  const { workers, asSeeded } = fleet
  try {
    await sleep(Math.random() * RENEWAL)
    const [victim, others] = await pickLeaving(backends, fleet, leaving)
    const shards = [...victim.leases()]
    const tallies = await Promise.all(others.map((w) => w.report()))
    const from = Date.now()
    await victim.kill()
    const wait = leaving === 'leader' ? LEADER_RESUME_WAIT_MS : RESUME_WAIT_MS
    await until(() => resumeTimes(batchesOf(others, from), shards, from).size === shards.length, wait)
    return {
      shards,
      times: resumeTimes(batchesOf(others, from), shards, from),
      held: heldBy(others, shards, from),
      asSeeded,
      failedWrites: await failedUpdatesSince(others, tallies),
    }
  } finally {
    await stopFleet(workers)
  }
}

interface GracefulRound extends CrashRound {
  readonly violations: number
  readonly missingCheckpoints: number
  /** From the shutdown command to shutdown() resolving in the departing worker. */
  readonly shutdownMs: number | undefined
}

async function gracefulRound(backends: Backends, scenario: HandoffScenario, who: Leaving): Promise<GracefulRound> {
  const fleet = await steadyFleet(backends, scenario, 'graceful')
  const { workers, asSeeded } = fleet
  try {
    await sleep(Math.random() * RENEWAL)
    const [leaving, others] = await pickLeaving(backends, fleet, who)
    const shards = [...leaving.leases()]
    const from = Date.now()
    leaving.send('shutdown')
    await until(() => resumeTimes(batchesOf(others, from), shards, from).size === shards.length, RESUME_WAIT_MS)
    const stopWait = CONSUMER_DEFAULTS.shutdownTimeoutMillis + 5_000
    await until(() => leaving.has('stopped'), stopWait)
    const check = redeliveries(shards, leaving.of('checkpointed'), batchesOf(others, from), from)
    const stopped = leaving.of('stopped')[0]
    return {
      shards,
      times: resumeTimes(batchesOf(others, from), shards, from),
      held: heldBy(others, shards, from),
      asSeeded,
      ...check,
      shutdownMs: stopped === undefined ? undefined : stopped.at - from,
    }
  } finally {
    await stopFleet(workers)
  }
}

/** Runs the rounds one after the other; a round that breaks off is kept as its reason, and the next one runs. */
async function rounds<T>(count: number, round: () => Promise<T>): Promise<{ done: T[]; failures: string[] }> {
  const done: T[] = []
  const failures: string[] = []
  for (let i = 0; i < count; i++) {
    try {
      done.push(await round())
    } catch (error) {
      failures.push(error instanceof Error ? error.message : String(error))
    }
  }
  return { done, failures }
}

export interface HandoffResult {
  /** In the KCL 3.x mode: a non-leader's crash. */
  readonly crash: CaseSummary
  /** KCL 3.x mode only: the leader's crash. */
  readonly leaderCrash?: CaseSummary
  readonly graceful: CaseSummary
  readonly violations: number
  readonly missingCheckpoints: number
  readonly shutdownMs: readonly (number | undefined)[]
  /** Per crash round: the survivors' failed conditional writes (see CrashRound). */
  readonly crashFailedWrites: readonly number[]
  /** Rounds whose fleet settled on another split than the seeded one. */
  readonly notAsSeeded: number
  readonly failures: readonly string[]
  readonly putFailures: { calls: number; entries: number }
}

export async function measureHandoff(backends: Backends, scenario: HandoffScenario): Promise<HandoffResult> {
  const puts = startPutLoop(backends.kinesis, scenario.stream, scenario.shards, scenario.putIntervalMs)
  try {
    const kcl3 = scenario.options?.clientVersionConfig !== undefined
    const crashes = await rounds(scenario.rounds, () => crashRound(backends, scenario, kcl3 ? 'non-leader' : 'any'))
    // BENCH_CONSUMER_KCL3_LEADER_ROUNDS=0 skips them (each waits out the leader lock's 120 s lease).
    const leaderCrashes =
      kcl3 && (scenario.leaderCrashRounds ?? scenario.rounds) > 0
        ? await rounds(scenario.leaderCrashRounds ?? scenario.rounds, () => crashRound(backends, scenario, 'leader'))
        : undefined
    const graceful = await rounds(scenario.rounds, () => gracefulRound(backends, scenario, kcl3 ? 'non-leader' : 'any'))
    const leaderFailures = (leaderCrashes?.failures ?? []).map((f) => `leader crash: ${f}`)
    return {
      crash: summarize(crashes.done, CRASH_TARGET_MS, crashes.failures.length),
      ...(leaderCrashes === undefined
        ? {}
        : { leaderCrash: summarize(leaderCrashes.done, CRASH_TARGET_MS, leaderCrashes.failures.length) }),
      graceful: summarize(graceful.done, GRACEFUL_TARGET_MS, graceful.failures.length),
      violations: graceful.done.reduce((n, r) => n + r.violations, 0),
      missingCheckpoints: graceful.done.reduce((n, r) => n + r.missingCheckpoints, 0),
      shutdownMs: graceful.done.map((r) => r.shutdownMs),
      crashFailedWrites: [...crashes.done, ...(leaderCrashes?.done ?? [])].map((r) => r.failedWrites ?? 0),
      notAsSeeded: [...crashes.done, ...(leaderCrashes?.done ?? []), ...graceful.done].filter((r) => !r.asSeeded)
        .length,
      failures: [
        ...crashes.failures.map((f) => `crash: ${f}`),
        ...leaderFailures,
        ...graceful.failures.map((f) => `graceful: ${f}`),
      ],
      putFailures: puts.failures(),
    }
  } finally {
    await puts.stop()
  }
}

const ms = (value: number) => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '—')
const verdict = (pass: boolean) => (pass ? 'PASS' : 'MISS')

export function printHandoff(scenario: HandoffScenario, result: HandoffResult): void {
  const row = (name: string, s: CaseSummary) => [
    name,
    s.failedRounds === 0 ? String(s.perRoundP100.length) : `${s.perRoundP100.length} (+${s.failedRounds} broke off)`,
    String(s.moved),
    String(s.unresumed),
    ms(s.p50),
    ms(s.p100),
    `≤ ${ms(s.targetMs)}`,
    s.perRoundP100.map(ms).join(' / '),
    verdict(s.pass),
  ]
  const kcl3 = scenario.options?.clientVersionConfig !== undefined
  const mode = kcl3 ? ` in the KCL 3.x mode (clientVersionConfig '3x')` : ''
  const crashes: [string, CaseSummary][] = [
    ['crash', result.crash],
    ...(result.leaderCrash === undefined ? [] : [['leader crash', result.leaderCrash] as [string, CaseSummary]]),
  ]
  printTable(
    `Handoff between worker processes at the KCL defaults${mode}: ${scenario.workers} workers × ${scenario.shards.length} shards, ` +
      `failoverTimeMillis ${FAILOVER}, ${scenario.rounds} rounds, one record per shard every ${scenario.putIntervalMs} ms (ms to each moved shard's next record processed on another worker)`,
    ['case', 'rounds', 'shards moved', 'not resumed', 'p50', 'p100', 'target (p100)', 'p100 per round', 'result'],
    [
      row(`crash: SIGKILL${kcl3 ? ' of a non-leader' : ''} → next record on a survivor`, result.crash),
      ...(result.leaderCrash === undefined
        ? []
        : [row('crash: SIGKILL of the leader → next record on a survivor', result.leaderCrash)]),
      row(`graceful: shutdown()${kcl3 ? ' of a non-leader' : ''} → next record elsewhere`, result.graceful),
    ],
  )
  console.log()
  for (const [name, s] of [...crashes, ['graceful', result.graceful] as [string, CaseSummary]]) {
    console.log(
      `${name}: lease held elsewhere after p50 ${ms(s.heldP50)}, p100 ${ms(s.heldP100)} ms (the rest is reading); every shard (ms): ${s.sorted.map(ms).join(', ')}`,
    )
  }
  const clean = result.violations === 0 && result.missingCheckpoints === 0
  console.log(
    `graceful: records at or below the shutdownRequested checkpoint processed again elsewhere: ${result.violations}` +
      ` (shards without that checkpoint: ${result.missingCheckpoints}) ${verdict(clean)}`,
  )
  console.log(
    `graceful: shutdown() resolved after (ms, per round): ${result.shutdownMs.map((v) => ms(v ?? Number.NaN)).join(' / ')}`,
  )
  console.log(
    `crash: survivors' failed conditional writes (takes that lost the race; a write unit each), per round: ${result.crashFailedWrites.join(' / ')}`,
  )
  if (result.notAsSeeded > 0)
    console.log(`${result.notAsSeeded} rounds settled on another split than the seeded one (a worker started late)`)
  for (const failure of result.failures) console.log(`round broke off (MISS): ${failure}`)
  const { calls, entries } = result.putFailures
  if (calls + entries > 0)
    console.log(`put loop: ${calls} PutRecords calls and ${entries} entries failed (a shard missed a record then)`)
}

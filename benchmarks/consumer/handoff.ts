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
import { type CaseSummary, type Round, redeliveries, resumeTimes, summarize } from './handoff-results.js'
import { seedLeaseTable } from './lease-seed.js'
import { startPutLoop } from './put-loop.js'
import { type WorkerProcess, mustReach, startFleet, stopFleet, until } from './worker-fleet.js'

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
}

const FAILOVER = CONSUMER_DEFAULTS.failoverTimeMillis
const RENEWAL = FAILOVER / CONSUMER_DEFAULTS.leaseRenewerIntervalDivisor
export const CRASH_TARGET_MS = FAILOVER + 2_000
export const GRACEFUL_TARGET_MS = 2_000
/** How long a round waits for the moved shards before it counts the rest as not resumed. */
const RESUME_WAIT_MS = FAILOVER + 20_000

async function steadyFleet(backends: Backends, scenario: HandoffScenario, label: string) {
  const app = `bench-${label}-${randomUUID().slice(0, 8)}`
  const ids = Array.from({ length: scenario.workers }, (_, i) => `w${i}`)
  const assigned = await seedLeaseTable(backends.dynamodb, app, scenario.shards, ids)
  const workers = await startFleet(
    ids.map((workerId) => ({
      kinesisEndpoint: backends.kinesisEndpoint,
      dynamodbEndpoint: backends.dynamodbEndpoint,
      streamName: scenario.stream,
      applicationName: app,
      workerId,
    })),
  )
  const startedAt = Date.now()
  const steady = (w: WorkerProcess) => {
    const mine = assigned.get(w.id)!
    const batches = w.of('batch')
    return (
      w.leases().join() === [...mine].sort().join() &&
      mine.every((s) => batches.some((b) => b.shardId === s && b.at > startedAt))
    )
  }
  try {
    await mustReach(
      `${label}: every worker processing the shards it was seeded with`,
      () => workers.every(steady),
      120_000,
    )
  } catch (error) {
    await stopFleet(workers)
    throw error
  }
  return workers
}

const batchesOf = (workers: readonly WorkerProcess[]) => workers.flatMap((w) => w.of('batch'))

/** SIGKILL one worker at a random point of its renewal cycle; its shards' resume times on the others. */
async function crashRound(backends: Backends, scenario: HandoffScenario): Promise<Round> {
  const workers = await steadyFleet(backends, scenario, 'crash')
  try {
    await sleep(Math.random() * RENEWAL)
    const [victim, ...others] = workers as [WorkerProcess, ...WorkerProcess[]]
    const shards = [...victim.leases()]
    const from = Date.now()
    await victim.kill()
    await until(() => resumeTimes(batchesOf(others), shards, from).size === shards.length, RESUME_WAIT_MS)
    return { shards, times: resumeTimes(batchesOf(others), shards, from) }
  } finally {
    await stopFleet(workers)
  }
}

interface GracefulRound extends Round {
  readonly violations: number
  readonly missingCheckpoints: number
  /** From the shutdown command to shutdown() resolving in the departing worker. */
  readonly shutdownMs: number | undefined
}

async function gracefulRound(backends: Backends, scenario: HandoffScenario): Promise<GracefulRound> {
  const workers = await steadyFleet(backends, scenario, 'graceful')
  try {
    await sleep(Math.random() * RENEWAL)
    const [leaving, ...others] = workers as [WorkerProcess, ...WorkerProcess[]]
    const shards = [...leaving.leases()]
    const from = Date.now()
    leaving.send('shutdown')
    await until(() => resumeTimes(batchesOf(others), shards, from).size === shards.length, RESUME_WAIT_MS)
    const stopWait = CONSUMER_DEFAULTS.shutdownTimeoutMillis + 5_000
    await until(() => leaving.has('stopped'), stopWait)
    const check = redeliveries(shards, leaving.of('checkpointed'), batchesOf(others), from)
    const stopped = leaving.of('stopped')[0]
    return {
      shards,
      times: resumeTimes(batchesOf(others), shards, from),
      ...check,
      shutdownMs: stopped === undefined ? undefined : stopped.at - from,
    }
  } finally {
    await stopFleet(workers)
  }
}

export interface HandoffResult {
  readonly crash: CaseSummary
  readonly graceful: CaseSummary
  readonly violations: number
  readonly missingCheckpoints: number
  readonly shutdownMs: readonly (number | undefined)[]
  readonly putFailures: { calls: number; entries: number }
}

export async function measureHandoff(backends: Backends, scenario: HandoffScenario): Promise<HandoffResult> {
  const puts = startPutLoop(backends.kinesis, scenario.stream, scenario.shards, scenario.putIntervalMs)
  try {
    const crashes: Round[] = []
    for (let i = 0; i < scenario.rounds; i++) crashes.push(await crashRound(backends, scenario))
    const graceful: GracefulRound[] = []
    for (let i = 0; i < scenario.rounds; i++) graceful.push(await gracefulRound(backends, scenario))
    return {
      crash: summarize(crashes, CRASH_TARGET_MS),
      graceful: summarize(graceful, GRACEFUL_TARGET_MS),
      violations: graceful.reduce((n, r) => n + r.violations, 0),
      missingCheckpoints: graceful.reduce((n, r) => n + r.missingCheckpoints, 0),
      shutdownMs: graceful.map((r) => r.shutdownMs),
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
    String(s.moved),
    String(s.unresumed),
    ms(s.p50),
    ms(s.p100),
    `≤ ${ms(s.targetMs)}`,
    s.perRoundP100.map(ms).join(' / '),
    verdict(s.pass),
  ]
  printTable(
    `Handoff between worker processes at the KCL defaults: ${scenario.workers} workers × ${scenario.shards.length} shards, ` +
      `failoverTimeMillis ${FAILOVER}, ${scenario.rounds} rounds, one record per shard every ${scenario.putIntervalMs} ms (ms to each moved shard's next record processed on another worker)`,
    ['case', 'shards moved', 'not resumed', 'p50', 'p100', 'target (p100)', 'p100 per round', 'result'],
    [
      row('crash: SIGKILL → next record on a survivor', result.crash),
      row('graceful: shutdown() → next record elsewhere', result.graceful),
    ],
  )
  const clean = result.violations === 0 && result.missingCheckpoints === 0
  console.log(
    `\ngraceful: records at or below the shutdownRequested checkpoint processed again elsewhere: ${result.violations}` +
      ` (shards without that checkpoint: ${result.missingCheckpoints}) ${verdict(clean)}`,
  )
  console.log(
    `graceful: shutdown() resolved after (ms, per round): ${result.shutdownMs.map((v) => ms(v ?? Number.NaN)).join(' / ')}`,
  )
  const { calls, entries } = result.putFailures
  if (calls + entries > 0)
    console.log(`put loop: ${calls} PutRecords calls and ${entries} entries failed (a shard missed a record then)`)
}

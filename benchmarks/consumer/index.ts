/**
 * Consumer benchmark against kinesis-local and dynalite (started here unless KINESIS_ENDPOINT /
 * DYNAMODB_ENDPOINT point elsewhere):
 * - throughput: records/s to a no-op processor, KinesisConsumer vs a bare SDK GetRecords loop;
 * - handoff: worker processes at the KCL defaults (failoverTimeMillis 10000, nothing else set) on a
 *   balanced lease table, one record put per shard every interval; a SIGKILLed worker's shards (target:
 *   each one's next record processed on a survivor within failoverTimeMillis + 2 s, p100) and a shut-down
 *   worker's (within 2 s, p100, and nothing at or below its shutdownRequested checkpoint processed again);
 *   2 workers × 4 shards, and 8 × 64 with BENCH_CONSUMER_SCALE=1;
 * - cost: DynamoDB requests and capacity units per lease-hour and per worker-hour at the defaults and with
 *   the expiry watch off, counted at each worker's client, 4 workers × 16 leases on an idle stream, next
 *   to the Java KCL 2.x's computed from its defaults; the rule (read cost +25% at most) in RCU;
 * - kcl3 (only when named): the KCL 3.x mode (clientVersionConfig '3x'), 3 workers × 12 shards: cold start
 *   to balanced, the handoff rounds (crash of a non-leader, crash of the leader, graceful), and the
 *   DynamoDB cost per lease-hour and worker-hour next to the 2.x mode's, measured in the same run.
 *
 * Knobs (environment variables):
 *   BENCH_CONSUMER_PARTS              throughput,handoff,cost  which parts to run
 *   BENCH_ROUNDS                      3       throughput: best of; handoff: crash and graceful rounds each
 *   BENCH_CONSUMER_RECORDS            20000   throughput: records in the stream
 *   BENCH_CONSUMER_SHARDS             4       throughput: shards
 *   BENCH_CONSUMER_MAX_RECORDS        1000    throughput: Limit / maxRecords
 *   BENCH_CONSUMER_SCALE              0       1: the handoff also at 8 workers × 64 shards; only: just that
 *   BENCH_CONSUMER_TRACE              0       1: workers write TRACE lines to stderr (worker-trace.ts)
 *   BENCH_CONSUMER_PUT_INTERVAL_MS    100     handoff at 2 × 4: one record per shard this often
 *   BENCH_CONSUMER_SCALE_PUT_INTERVAL_MS 500  handoff at 8 × 64 (kinesis-local slows down with 64 shards)
 *   BENCH_CONSUMER_COST_WINDOW_MS     60000   cost and kcl3: window counted per setting
 *   BENCH_CONSUMER_KCL3_BALANCE_WAIT_MS 60000 kcl3: how long a cold fleet may take to balance
 *   BENCH_CONSUMER_KCL3_LEADER_ROUNDS 1       kcl3: leader-crash rounds (each waits up to 150 s; 0 skips them)
 *   BENCH_CONSUMER_KCL3_STEPS  balance,handoff,cost  kcl3: which of its steps
 */
import { createKinesisClient } from '@kinesis-ts/shared'
import { createDynamoDBClient } from '@kinesis-ts/shared/dynamodb'
import { localCredentials, startLocalDynamoDB, startLocalKinesis } from '@kinesis-ts/shared/testing'
import { envNumber } from '../lib/table.js'
import { measureCost, printCost } from './cost.js'
import { type Backends, measureHandoff, printHandoff } from './handoff.js'
import { measureBalance, measureKcl3Handoff, measureModeCost, printBalance, printModeCost } from './kcl3.js'
import { createStreamWithShards } from './streams.js'
import { measureThroughput } from './throughput.js'
import { bundleWorker } from './worker-fleet.js'

const PARTS = ['throughput', 'handoff', 'cost', 'kcl3']
/** kcl3 runs only when asked for: it adds about 10 minutes. */
const DEFAULT_PARTS = ['throughput', 'handoff', 'cost']

function readParts(): string[] {
  const raw = process.env.BENCH_CONSUMER_PARTS
  const parts = raw ? raw.split(',').map((p) => p.trim()) : DEFAULT_PARTS
  const unknown = parts.filter((p) => !PARTS.includes(p))
  if (unknown.length > 0) throw new RangeError(`BENCH_CONSUMER_PARTS: unknown ${unknown.join(', ')} (known: ${PARTS})`)
  return parts
}

async function handoffAt(backends: Backends, workers: number, shards: number, rounds: number, putIntervalMs: number) {
  const { stream, shards: open } = await createStreamWithShards(backends.kinesis, shards)
  const scenario = { stream, shards: open, workers, rounds, putIntervalMs }
  printHandoff(scenario, await measureHandoff(backends, scenario))
}

export async function run(): Promise<void> {
  const parts = readParts()
  const rounds = envNumber('BENCH_ROUNDS', 3)
  const [kinesisLocal, dynalite] = await Promise.all([startLocalKinesis(), startLocalDynamoDB()])
  const common = { region: 'us-east-1', credentials: localCredentials }
  const kinesis = createKinesisClient({ ...common, endpoint: kinesisLocal.endpoint })
  const dynamodb = createDynamoDBClient({ ...common, endpoint: dynalite.endpoint })
  const backends: Backends = {
    kinesis,
    dynamodb,
    kinesisEndpoint: kinesisLocal.endpoint,
    dynamodbEndpoint: dynalite.endpoint,
    dynalite: !dynalite.external,
  }
  try {
    if (parts.includes('throughput')) {
      await measureThroughput(kinesis, dynamodb, {
        records: envNumber('BENCH_CONSUMER_RECORDS', 20_000),
        shards: envNumber('BENCH_CONSUMER_SHARDS', 4),
        maxRecords: envNumber('BENCH_CONSUMER_MAX_RECORDS', 1_000),
        rounds,
      })
    }
    if (parts.some((p) => p !== 'throughput')) await bundleWorker()
    if (parts.includes('handoff')) {
      const scale = process.env.BENCH_CONSUMER_SCALE
      if (scale !== 'only') await handoffAt(backends, 2, 4, rounds, envNumber('BENCH_CONSUMER_PUT_INTERVAL_MS', 100))
      if (scale === '1' || scale === 'only') {
        await handoffAt(backends, 8, 64, rounds, envNumber('BENCH_CONSUMER_SCALE_PUT_INTERVAL_MS', 500))
      }
    }
    if (parts.includes('cost')) {
      const { stream, shards } = await createStreamWithShards(kinesis, 16)
      const scenario = { stream, shards, workers: 4, windowMs: envNumber('BENCH_CONSUMER_COST_WINDOW_MS', 60_000) }
      printCost(scenario, await measureCost(backends, scenario))
    }
    if (parts.includes('kcl3')) {
      const { stream, shards } = await createStreamWithShards(kinesis, 12)
      const scenario = {
        stream,
        shards,
        workers: 3,
        rounds,
        putIntervalMs: envNumber('BENCH_CONSUMER_PUT_INTERVAL_MS', 100),
        balanceWaitMs: envNumber('BENCH_CONSUMER_KCL3_BALANCE_WAIT_MS', 60_000),
        leaderCrashRounds: envNumber('BENCH_CONSUMER_KCL3_LEADER_ROUNDS', 1, { zeroAllowed: true }),
      }
      const steps = (process.env.BENCH_CONSUMER_KCL3_STEPS ?? 'balance,handoff,cost').split(',')
      if (steps.includes('balance')) printBalance(scenario, await measureBalance(backends, scenario))
      if (steps.includes('handoff')) await measureKcl3Handoff(backends, scenario)
    }
    if (parts.includes('kcl3') && (process.env.BENCH_CONSUMER_KCL3_STEPS ?? 'cost').split(',').includes('cost')) {
      const idle = await createStreamWithShards(kinesis, 12)
      const cost = { ...idle, workers: 3, windowMs: envNumber('BENCH_CONSUMER_COST_WINDOW_MS', 60_000) }
      try {
        printModeCost(cost, await measureModeCost(backends, cost))
      } catch (error) {
        // The figures above stand; a window in which a lease moved gives no steady cost to print.
        console.log(`\nkcl3 cost broke off (MISS): ${error instanceof Error ? error.message : String(error)}`)
      }
    }
  } finally {
    kinesis.destroy()
    dynamodb.destroy()
    await Promise.all([kinesisLocal.stop(), dynalite.stop()])
  }
}

/**
 * Consumer benchmark against kinesis-local and dynalite (started here unless KINESIS_ENDPOINT /
 * DYNAMODB_ENDPOINT point elsewhere):
 * - throughput: records/s to a no-op processor, KinesisConsumer vs a bare SDK GetRecords loop;
 * - handoff: worker processes at the KCL defaults (failoverTimeMillis 10000, nothing else set) on a
 *   balanced lease table, one record put per shard every interval; a SIGKILLed worker's shards (target:
 *   each one's next record processed on a survivor within failoverTimeMillis + 2 s, p100) and a shut-down
 *   worker's (within 2 s, p100, and nothing at or below its shutdownRequested checkpoint processed again);
 *   2 workers × 4 shards, and 8 × 64 with BENCH_CONSUMER_SCALE=1;
 *
 * Knobs (environment variables):
 *   BENCH_CONSUMER_PARTS              throughput,handoff  which parts to run
 *   BENCH_ROUNDS                      3       throughput: best of; handoff: crash and graceful rounds each
 *   BENCH_CONSUMER_RECORDS            20000   throughput: records in the stream
 *   BENCH_CONSUMER_SHARDS             4       throughput: shards
 *   BENCH_CONSUMER_MAX_RECORDS        1000    throughput: Limit / maxRecords
 *   BENCH_CONSUMER_SCALE              0       1: the handoff also at 8 workers × 64 shards
 *   BENCH_CONSUMER_PUT_INTERVAL_MS    100     handoff at 2 × 4: one record per shard this often
 *   BENCH_CONSUMER_SCALE_PUT_INTERVAL_MS 500  handoff at 8 × 64 (kinesis-local slows down with 64 shards)
 */
import { createKinesisClient } from '@kinesis-ts/shared'
import { createDynamoDBClient } from '@kinesis-ts/shared/dynamodb'
import { localCredentials, startLocalDynamoDB, startLocalKinesis } from '@kinesis-ts/shared/testing'
import { envNumber } from '../lib/table.js'
import { type Backends, measureHandoff, printHandoff } from './handoff.js'
import { createStreamWithShards } from './streams.js'
import { measureThroughput } from './throughput.js'
import { bundleWorker } from './worker-fleet.js'

const PARTS = ['throughput', 'handoff']

function readParts(): string[] {
  const raw = process.env.BENCH_CONSUMER_PARTS
  const parts = raw ? raw.split(',').map((p) => p.trim()) : PARTS
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
    if (parts.includes('handoff')) await bundleWorker()
    if (parts.includes('handoff')) {
      await handoffAt(backends, 2, 4, rounds, envNumber('BENCH_CONSUMER_PUT_INTERVAL_MS', 100))
      if (process.env.BENCH_CONSUMER_SCALE === '1') {
        await handoffAt(backends, 8, 64, rounds, envNumber('BENCH_CONSUMER_SCALE_PUT_INTERVAL_MS', 500))
      }
    }
  } finally {
    kinesis.destroy()
    dynamodb.destroy()
    await Promise.all([kinesisLocal.stop(), dynalite.stop()])
  }
}

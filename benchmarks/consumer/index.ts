/**
 * Consumer benchmark against kinesis-local and dynalite:
 * - records/s delivered to a no-op processor by KinesisConsumer vs a bare SDK GetRecords loop over
 *   the same shards of the same stream (both from TRIM_HORIZON, same Limit, no idle time);
 * - time from a worker's crash to its shards resuming on the other worker, and from a graceful
 *   shutdown to resumption, at the KCL default timings unless overridden;
 * - DynamoDB write requests per lease per hour at defaults, counted on the client.
 * Knobs: BENCH_CONSUMER_RECORDS (20000), BENCH_CONSUMER_SHARDS (4), BENCH_CONSUMER_MAX_RECORDS (1000),
 * BENCH_ROUNDS (3), BENCH_CONSUMER_FAILOVER_MS (10000, the KCL default), BENCH_CONSUMER_WRITE_WINDOW_MS (20000).
 */
import { randomUUID } from 'node:crypto'
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis'
import { KinesisConsumer, type KinesisConsumerOptions, type ShardRecordProcessor } from '@kinesis-ts/consumer'
import { createKinesisClient, sleep } from '@kinesis-ts/shared'
import { createDynamoDBClient } from '@kinesis-ts/shared/dynamodb'
import { localCredentials, startLocalDynamoDB, startLocalKinesis } from '@kinesis-ts/shared/testing'
import { envNumber, printComparison, printRatio } from '../lib/table.js'

type DynamoDB = ReturnType<typeof createDynamoDBClient>
const WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'BatchWriteItemCommand'])

/** Counts DynamoDB requests by command name, as they leave the client. */
function countRequests(client: DynamoDB): Map<string, number> {
  const counts = new Map<string, number>()
  client.middlewareStack.add(
    (next, context) => (args) => {
      const name = String(context.commandName)
      counts.set(name, (counts.get(name) ?? 0) + 1)
      return next(args)
    },
    { step: 'initialize', name: 'benchRequestCounter' },
  )
  return counts
}

const sumOf = (counts: Map<string, number>, names: Set<string>) =>
  [...counts].filter(([name]) => names.has(name)).reduce((n, [, c]) => n + c, 0)

async function createStream(kinesis: KinesisClient, shards: number): Promise<string> {
  const name = `bench-${randomUUID().slice(0, 8)}`
  await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }))
  for (;;) {
    const s = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }))
    if (s.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return name
    await sleep(25)
  }
}

async function fill(kinesis: KinesisClient, stream: string, count: number): Promise<void> {
  const data = Buffer.alloc(100, 7)
  for (let i = 0; i < count; i += 500) {
    let pending = Array.from({ length: Math.min(500, count - i) }, (_, j) => ({
      PartitionKey: `key-${i + j}`,
      Data: data,
    }))
    while (pending.length > 0) {
      const out = await kinesis.send(new PutRecordsCommand({ StreamName: stream, Records: pending }))
      pending = pending.filter((_, j) => out.Records?.[j]?.ErrorCode !== undefined)
    }
  }
}

/** The reference: per shard, GetShardIterator then GetRecords back to back until the shard is drained. */
async function bareLoop(kinesis: KinesisClient, stream: string, total: number, limit: number): Promise<number> {
  const started = performance.now()
  const { Shards } = await kinesis.send(new ListShardsCommand({ StreamName: stream }))
  let read = 0
  await Promise.all(
    (Shards ?? []).map(async (shard) => {
      let { ShardIterator: iterator } = await kinesis.send(
        new GetShardIteratorCommand({ StreamName: stream, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }),
      )
      while (iterator !== undefined && read < total) {
        const out = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: limit }))
        read += out.Records?.length ?? 0
        if ((out.Records?.length ?? 0) === 0 && out.MillisBehindLatest === 0) break
        iterator = out.NextShardIterator
      }
    }),
  )
  if (read < total) throw new Error(`bare loop read ${read} of ${total}`)
  return total / ((performance.now() - started) / 1000)
}

function noop(onRecords: (count: number) => void): ShardRecordProcessor {
  return {
    initialize() {},
    processRecords({ records }) {
      onRecords(records.length)
    },
    leaseLost() {},
    async shardEnded({ checkpointer }) {
      await checkpointer.checkpoint()
    },
    async shutdownRequested({ checkpointer }) {
      await checkpointer.checkpoint()
    },
  }
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('benchmark step timed out')
    await sleep(5)
  }
}

interface Env {
  kinesis: KinesisClient
  dynamodb: DynamoDB
  stream: string
}

function consumerOptions(env: Env, overrides: Partial<KinesisConsumerOptions>): KinesisConsumerOptions {
  return {
    streamName: env.stream,
    applicationName: `bench-app-${randomUUID().slice(0, 8)}`,
    initialPosition: 'TRIM_HORIZON',
    kinesisClient: env.kinesis,
    dynamoDBClient: env.dynamodb,
    processorFactory: () => noop(() => {}),
    ...overrides,
  }
}

/** End to end (start() to last record) and steady state (first to last record). */
async function consumerRate(env: Env, total: number, limit: number) {
  let read = 0
  let first = 0
  const started = performance.now()
  const consumer = new KinesisConsumer(
    consumerOptions(env, {
      maxRecords: limit,
      idleTimeBetweenReadsInMillis: 0,
      processorFactory: () =>
        noop((n) => {
          if (read === 0) first = performance.now()
          read += n
        }),
    }),
  )
  await consumer.start()
  await waitUntil(() => read >= total, 300_000)
  const end = performance.now()
  await consumer.shutdown()
  return { endToEnd: total / ((end - started) / 1000), steady: total / ((end - first) / 1000) }
}

/** Two workers split the shards; one stops; ms until all its shards have started on the other. */
async function handoff(
  env: Env,
  shards: number,
  how: 'crash' | 'shutdown',
  failoverTimeMillis: number,
): Promise<number> {
  const base = consumerOptions(env, { failoverTimeMillis })
  const a = new KinesisConsumer({ ...base, workerId: 'a' })
  await a.start()
  await waitUntil(() => a.leases.length > 0, 120_000)
  const b = new KinesisConsumer({ ...base, workerId: 'b' })
  const resumed = new Map<string, number>()
  b.on('consumer.shard_started', ({ shardId }) => resumed.set(shardId, performance.now()))
  await b.start()
  // Let the split settle: steals move one lease per taker round, and the victim notices at its next renewal.
  await waitUntil(() => {
    const both = new Set([...a.leases, ...b.leases])
    return (
      both.size === shards &&
      a.leases.length + b.leases.length === shards &&
      Math.abs(a.leases.length - b.leases.length) <= 1
    )
  }, 300_000)
  const moving = [...a.leases]
  const stoppedAt = performance.now()
  if (how === 'crash') await a.destroy()
  else await a.shutdown()
  await waitUntil(() => moving.every((s) => (resumed.get(s) ?? 0) > stoppedAt), 300_000)
  const ms = Math.max(...moving.map((s) => resumed.get(s)!)) - stoppedAt
  await b.shutdown()
  return ms
}

/** One worker holding every lease of an idle stream, at defaults: writes per lease per hour. */
async function writesPerLeaseHour(env: Env, windowMs: number) {
  const counts = countRequests(env.dynamodb)
  const consumer = new KinesisConsumer(consumerOptions(env, {}))
  await consumer.start()
  await waitUntil(() => consumer.leases.length > 0, 120_000)
  await sleep(5_000)
  const leases = consumer.leases.length
  const before = sumOf(counts, WRITES)
  const readsBefore = [...counts.values()].reduce((a, b) => a + b, 0) - before
  await sleep(windowMs)
  const writes = sumOf(counts, WRITES) - before
  const reads = [...counts.values()].reduce((a, b) => a + b, 0) - sumOf(counts, WRITES) - readsBefore
  await consumer.shutdown()
  const perHour = (n: number) => (n / leases) * (3_600_000 / windowMs)
  return { leases, writes, perLeaseHour: perHour(writes), readsPerHour: reads * (3_600_000 / windowMs) }
}

export async function run(): Promise<void> {
  const total = envNumber('BENCH_CONSUMER_RECORDS', 20_000)
  const shards = envNumber('BENCH_CONSUMER_SHARDS', 4)
  const limit = envNumber('BENCH_CONSUMER_MAX_RECORDS', 1_000)
  const rounds = envNumber('BENCH_ROUNDS', 3)
  const failover = envNumber('BENCH_CONSUMER_FAILOVER_MS', 10_000)
  const windowMs = envNumber('BENCH_CONSUMER_WRITE_WINDOW_MS', 20_000)
  const [kinesisLocal, dynalite] = await Promise.all([startLocalKinesis(), startLocalDynamoDB()])
  const common = { region: 'us-east-1', credentials: localCredentials }
  const kinesis = createKinesisClient({ ...common, endpoint: kinesisLocal.endpoint })
  const dynamodb = createDynamoDBClient({ ...common, endpoint: dynalite.endpoint })
  try {
    const stream = await createStream(kinesis, shards)
    await fill(kinesis, stream, total)
    const env = { kinesis, dynamodb, stream }
    console.log(
      `${total} records of 100 bytes on ${shards} shards of kinesis-local; Limit/maxRecords ${limit}; best of ${rounds}`,
    )

    let bare = 0
    let ours = { endToEnd: 0, steady: 0 }
    for (let round = 0; round < rounds; round++) {
      bare = Math.max(bare, await bareLoop(kinesis, stream, total, limit))
      const rate = await consumerRate(env, total, limit)
      if (rate.steady > ours.steady) ours = rate
    }
    printComparison('Records/s to a no-op processor (idle time 0)', 'records/s', [
      { name: 'bare SDK GetRecords loop', value: bare },
      { name: 'KinesisConsumer, first to last record', value: ours.steady },
      { name: 'KinesisConsumer, start() to last record', value: ours.endToEnd },
    ])
    console.log()
    printRatio('KinesisConsumer vs bare GetRecords loop (steady)', ours.steady / bare, 0.9)

    const crash = await handoff(env, shards, 'crash', failover)
    const graceful = await handoff(env, shards, 'shutdown', failover)
    console.log(`\n### Resumption elsewhere (failoverTimeMillis ${failover}, taker every ${(failover + 25) * 2} ms)\n`)
    console.log(`crash (destroy) → shards resumed on the other worker: ${Math.round(crash)} ms`)
    console.log(`graceful shutdown() → shards resumed on the other worker: ${Math.round(graceful)} ms`)

    const writes = await writesPerLeaseHour(env, windowMs)
    console.log(`\n### DynamoDB requests at defaults (idle stream, ${writes.leases} leases, ${windowMs} ms counted)\n`)
    console.log(`write requests per lease per hour: ${Math.round(writes.perLeaseHour)} (${writes.writes} counted)`)
    console.log(`read requests per worker per hour (taker scans, ...): ${Math.round(writes.readsPerHour)}`)
  } finally {
    kinesis.destroy()
    dynamodb.destroy()
    await Promise.all([kinesisLocal.stop(), dynalite.stop()])
  }
}

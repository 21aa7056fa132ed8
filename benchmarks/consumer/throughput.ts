/**
 * Records/s delivered to a no-op processor by KinesisConsumer (in this process) vs a bare SDK GetRecords
 * loop over the same shards of the same stream (both from TRIM_HORIZON, same Limit, no idle time).
 */
import { randomUUID } from 'node:crypto'
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis'
import { KinesisConsumer, type ShardRecordProcessor } from '@kinesis-ts/consumer'
import { printComparison, printRatio } from '../lib/table.js'
import { createStream } from './streams.js'
import { mustReach } from './worker-fleet.js'

export interface ThroughputScenario {
  readonly records: number
  readonly shards: number
  readonly maxRecords: number
  readonly rounds: number
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

/** End to end (start() to last record) and steady state (first to last record). */
async function consumerRate(kinesis: KinesisClient, dynamodb: DynamoDBClient, stream: string, s: ThroughputScenario) {
  let read = 0
  let first = 0
  let end = 0
  const started = performance.now()
  const consumer = new KinesisConsumer({
    streamName: stream,
    applicationName: `bench-app-${randomUUID().slice(0, 8)}`,
    initialPosition: 'TRIM_HORIZON',
    kinesisClient: kinesis,
    dynamoDBClient: dynamodb,
    maxRecords: s.maxRecords,
    idleTimeBetweenReadsInMillis: 0,
    processorFactory: () =>
      noop((n) => {
        if (read === 0) first = performance.now()
        read += n
        // Timed here, not when the wait below notices.
        if (read >= s.records && end === 0) end = performance.now()
      }),
  })
  await consumer.start()
  await mustReach('the consumer reading every record', () => end > 0, 300_000)
  await consumer.shutdown()
  return { endToEnd: s.records / ((end - started) / 1000), steady: s.records / ((end - first) / 1000) }
}

export async function measureThroughput(
  kinesis: KinesisClient,
  dynamodb: DynamoDBClient,
  scenario: ThroughputScenario,
): Promise<void> {
  const stream = await createStream(kinesis, scenario.shards)
  await fill(kinesis, stream, scenario.records)
  console.log(
    `${scenario.records} records of 100 bytes on ${scenario.shards} shards of kinesis-local; Limit/maxRecords ${scenario.maxRecords}; best of ${scenario.rounds}`,
  )
  let bare = 0
  let ours = { endToEnd: 0, steady: 0 }
  for (let round = 0; round < scenario.rounds; round++) {
    bare = Math.max(bare, await bareLoop(kinesis, stream, scenario.records, scenario.maxRecords))
    const rate = await consumerRate(kinesis, dynamodb, stream, scenario)
    if (rate.steady > ours.steady) ours = rate
  }
  printComparison('Records/s to a no-op processor (idle time 0)', 'records/s', [
    { name: 'bare SDK GetRecords loop', value: bare },
    { name: 'KinesisConsumer, first to last record', value: ours.steady },
    { name: 'KinesisConsumer, start() to last record', value: ours.endToEnd },
  ])
  console.log()
  printRatio('KinesisConsumer vs bare GetRecords loop (steady)', ours.steady / bare, 0.9)
}

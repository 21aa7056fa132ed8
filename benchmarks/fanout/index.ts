/**
 * Retrieval on kinesis-local: polling (the consumer's GetRecords source) vs enhanced fan-out
 * (SubscribeToShard, HTTP/1.1 straight to kinesis-local: its own HTTP/2 event stream breaks in Node).
 * Both are driven through RecordSource.next(), one batch at a time, as the shard consumer does.
 * - throughput: records/s reading a preloaded 2-shard stream from TRIM_HORIZON;
 * - latency: put → delivery (p50/p99) under a steady put rate, from LATEST.
 * Knobs: BENCH_FANOUT_RECORDS (20000), BENCH_FANOUT_SECONDS (10), BENCH_FANOUT_RATE (records/s, 200).
 */
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  type KinesisClient,
  ListShardsCommand,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis'
import { createKinesisClient, noopMetrics, silentLogger, sleep } from '@kinesis-ts/shared'
import { localCredentials, startLocalKinesis } from '@kinesis-ts/shared/testing'
import { createFanOutSourceFactory } from '../../packages/consumer/src/fanout/index.js'
import { PollingRecordSource } from '../../packages/consumer/src/retrieval/polling-source.js'
import type { RecordSource, ShardDescriptor, StartingPosition } from '../../packages/consumer/src/seams.js'
import { envNumber, printComparison } from '../lib/table.js'

type Open = (shard: ShardDescriptor, position: StartingPosition) => RecordSource

async function createStream(
  kinesis: KinesisClient,
  shards: number,
): Promise<{ name: string; shards: ShardDescriptor[] }> {
  const name = `bench-fanout-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`
  await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }))
  for (;;) {
    const summary = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }))
    if (summary.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') break
    await sleep(25)
  }
  const listed = await kinesis.send(new ListShardsCommand({ StreamName: name }))
  return {
    name,
    shards: (listed.Shards ?? []).map((shard) => ({
      shardId: shard.ShardId ?? '',
      streamName: name,
      startingHashKey: shard.HashKeyRange?.StartingHashKey ?? '0',
      endingHashKey: shard.HashKeyRange?.EndingHashKey ?? '0',
    })),
  }
}

async function put(kinesis: KinesisClient, streamName: string, count: number, offset: number): Promise<void> {
  const records = Array.from({ length: count }, (_, i) => ({
    PartitionKey: `key-${offset + i}`,
    Data: Buffer.from(JSON.stringify({ at: Date.now() })),
  }))
  for (let i = 0; i < records.length; i += 500) {
    await kinesis.send(new PutRecordsCommand({ StreamName: streamName, Records: records.slice(i, i + 500) }))
  }
}

/**
 * Reads every shard until `enough` says stop or `timeoutMs` passes; calls `onRecord` with each
 * record's data. Reads are cancelled through their signal, so nothing is left pending.
 */
async function consume(
  open: Open,
  shards: ShardDescriptor[],
  position: StartingPosition,
  enough: () => boolean,
  onRecord: (data: Uint8Array) => void,
  timeoutMs = 300_000,
): Promise<void> {
  const stop = new AbortController()
  const signal = AbortSignal.any([stop.signal, AbortSignal.timeout(timeoutMs)])
  // Checked on a timer too: a caught-up reader waits in next() while the producer finishes.
  const watcher = setInterval(() => enough() && stop.abort(), 20)
  try {
    await Promise.all(
      shards.map(async (shard) => {
        const source = open(shard, position)
        try {
          while (!signal.aborted) {
            const batch = await source.next(signal).catch((error: unknown) => {
              if (signal.aborted) return undefined
              throw error
            })
            for (const record of batch?.records ?? []) onRecord(record.data)
            if (enough()) stop.abort()
          }
        } finally {
          await source.close()
        }
      }),
    )
  } finally {
    clearInterval(watcher)
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN
}

export async function run(): Promise<void> {
  const total = envNumber('BENCH_FANOUT_RECORDS', 20_000)
  const seconds = envNumber('BENCH_FANOUT_SECONDS', 10)
  const rate = envNumber('BENCH_FANOUT_RATE', 200)
  const local = await startLocalKinesis()
  const options = { region: 'us-east-1', endpoint: local.endpoint, credentials: localCredentials }
  const kinesis = createKinesisClient(options)
  const polling =
    (idle: number): Open =>
    (shard, position) =>
      new PollingRecordSource(
        {
          kinesis,
          logger: silentLogger,
          metrics: noopMetrics,
          options: {
            mode: 'polling',
            maxRecords: 10_000,
            idleTimeBetweenReadsInMillis: idle,
            maxPendingBatches: 3,
            maxPendingBytes: 8 << 20,
            backoffBaseMillis: 200,
            backoffMaxMillis: 10_000,
          },
        },
        shard,
        position,
      )
  try {
    const contenders: { name: string; open: (streamName: string) => Promise<{ open: Open; stop(): Promise<void> }> }[] =
      [
        {
          name: 'polling (idle 1500 ms, KCL default)',
          open: async () => ({ open: polling(1500), stop: async () => {} }),
        },
        { name: 'polling (idle 200 ms)', open: async () => ({ open: polling(200), stop: async () => {} }) },
        {
          name: 'fan-out (SubscribeToShard)',
          open: async (streamName) => {
            const factory = createFanOutSourceFactory({
              kinesis,
              streamName,
              applicationName: 'bench',
              httpVersion: '1.1',
            })
            await factory.start(AbortSignal.timeout(60_000))
            return { open: (shard, position) => factory.open(shard, position), stop: () => factory.stop() }
          },
        },
      ]
    const throughput = []
    const latency = []
    for (const contender of contenders) {
      // Throughput: a preloaded stream read from TRIM_HORIZON.
      const loaded = await createStream(kinesis, 2)
      await put(kinesis, loaded.name, total, 0)
      const reader = await contender.open(loaded.name)
      let read = 0
      const started = performance.now()
      await consume(
        reader.open,
        loaded.shards,
        { type: 'TRIM_HORIZON' },
        () => read >= total,
        () => read++,
      )
      throughput.push({ name: contender.name, value: total / ((performance.now() - started) / 1000) })
      await reader.stop()

      // Latency: records put at a steady rate while the reader follows from LATEST.
      const live = await createStream(kinesis, 2)
      const follower = await contender.open(live.name)
      const delays: number[] = []
      let producing = true
      const expected = Math.floor(rate * seconds)
      const consuming = consume(
        follower.open,
        live.shards,
        { type: 'LATEST' },
        () => !producing && delays.length >= expected,
        (data) => {
          delays.push(Date.now() - (JSON.parse(Buffer.from(data).toString()) as { at: number }).at)
        },
        (seconds + 30) * 1000,
      )
      await sleep(1500) // let subscriptions and iterators settle at LATEST before the first put
      const tick = 100
      for (let sent = 0; sent < expected; sent += (rate * tick) / 1000) {
        await Promise.all([put(kinesis, live.name, (rate * tick) / 1000, sent), sleep(tick)])
      }
      producing = false
      await consuming
      await follower.stop()
      const sorted = delays.sort((a, b) => a - b)
      latency.push({
        name: contender.name,
        value: sorted.length / expected,
        extra: {
          'p50 ms': percentile(sorted, 50),
          'p99 ms': percentile(sorted, 99),
          delivered: `${sorted.length}/${expected}`,
        },
      })
    }
    printComparison(`read ${total} preloaded records, 2 shards`, 'records/s', throughput)
    printComparison(`put → delivery latency, ${rate} records/s for ${seconds} s`, 'fraction delivered', latency)
  } finally {
    kinesis.destroy()
    await local.stop()
  }
}

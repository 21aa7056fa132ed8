/**
 * Producer CPU micro-benchmark (issue 16): CPU nanoseconds per record of the producer's hot
 * functions, before (baseline.ts) and after, in the same run. Measured as process CPU time
 * (`process.cpuUsage`, GC threads included), best of BENCH_ROUNDS rounds, which other processes on a
 * shared machine disturb far less than wall time.
 * - PutRecords request building: the SDK serializing 500 × 100 B entries vs encodePutRecordsBody
 *   handed to the same client; then 10 × 50 KiB aggregates.
 * - A whole PutRecords through the client against an in-process handler that answers at once
 *   (building, signing, response parsing): the SDK's serde vs putRecords().
 * - Partition key → hash key, hot (BENCH_PRODUCER_CPU_KEYS distinct keys) and unique keys.
 * - Hash key → shard on 4 and 64 shards, and key → shard as the producer asks it.
 * The sender's modules are not exported, so they are imported from the producer's sources (as the
 * producer benchmark does); @kinesis-ts/shared is the built package.
 * Knobs: BENCH_PRODUCER_CPU_RECORDS (200000), BENCH_PRODUCER_CPU_KEYS (2000), BENCH_ROUNDS (5).
 */
import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis'
import {
  HashKeyCache,
  MAX_HASH_KEY,
  PartitionKeyEntry,
  ShardMap,
  hashKeyOf,
  hashKeyParts,
  partitionKeyHashOf,
} from '@kinesis-ts/shared'
import type { KinesisRecord } from '../../packages/producer/src/pending.js'
import { usePrebuiltPutRecords } from '../../packages/producer/src/prebuilt-put-records.js'
import { encodePutRecordsBody } from '../../packages/producer/src/put-records-body.js'
import { putRecords } from '../../packages/producer/src/sender.js'
import type { StreamTarget } from '../../packages/producer/src/stream-target.js'
import { envNumber } from '../lib/table.js'
import { type BenchRecord, BigIntHashKeyCache, sdkPutRecords } from './baseline.js'

const STREAM = 'bench'
const RECORDS_PER_REQUEST = 500

/** Best (lowest) CPU nanoseconds per item of `fn` over `rounds` rounds, after one warm-up round. */
async function cpuNsPerItem(items: number, rounds: number, fn: (round: number) => unknown): Promise<number> {
  await fn(-1)
  let best = Number.POSITIVE_INFINITY
  for (let round = 0; round < rounds; round++) {
    const start = process.cpuUsage()
    await fn(round)
    const used = process.cpuUsage(start)
    best = Math.min(best, ((used.user + used.system) * 1000) / items)
  }
  return best
}

interface Row {
  readonly measure: string
  readonly before: number | undefined
  readonly after: number
}

function printRows(title: string, unit: string, rows: readonly Row[]): void {
  const format = (ns: number | undefined) => (ns === undefined ? '' : ns >= 100 ? ns.toFixed(0) : ns.toFixed(1))
  const header = ['measure', `before ${unit}`, `after ${unit}`, 'before / after']
  const body = rows.map((row) => [
    row.measure,
    format(row.before),
    format(row.after),
    row.before === undefined ? '' : `${(row.before / row.after).toFixed(2)}x`,
  ])
  const widths = header.map((cell, i) => Math.max(cell.length, ...body.map((line) => line[i]!.length)))
  const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`
  console.log(`\n### ${title}\n`)
  console.log(line(header))
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`)
  for (const cells of body) console.log(line(cells))
}

/** A real client that stops each call once the request is built (what the build step holds). */
function buildOnlyClient(bodyBytes: number[]): KinesisClient {
  const kinesis = benchClient(() => {
    throw new Error('a build-only call reached the network')
  })
  kinesis.middlewareStack.add(
    () => async (args) => {
      bodyBytes.push((args.request as { body: Uint8Array }).body.byteLength)
      return { output: { $metadata: {} }, response: {} }
    },
    { step: 'build', priority: 'high', name: 'benchStopAfterSerialize' },
  )
  return kinesis
}

/** A real client (signing, retries and all) whose handler answers `respond` at once. */
function benchClient(respond: () => Buffer): KinesisClient {
  return new KinesisClient({
    region: 'us-east-1',
    endpoint: 'http://kinesis.bench:4567',
    credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'secret' },
    maxAttempts: 1,
    requestHandler: {
      handle: async () => ({
        response: {
          statusCode: 200,
          headers: { 'content-type': 'application/x-amz-json-1.1' },
          body: Readable.from([respond()]),
        },
      }),
    },
  })
}

function acceptedBody(count: number): Buffer {
  const Records = Array.from({ length: count }, (_, i) => ({
    SequenceNumber: `49654893543534534534534534534534534534534534534534${String(i).padStart(6, '0')}`,
    ShardId: `shardId-00000000000${i % 4}`,
  }))
  return Buffer.from(JSON.stringify({ FailedRecordCount: 0, Records }))
}

function evenShardMap(count: number): ShardMap {
  const width = (MAX_HASH_KEY + 1n) / BigInt(count)
  return new ShardMap(
    Array.from({ length: count }, (_, i) => ({
      ShardId: `shardId-${String(i).padStart(12, '0')}`,
      HashKeyRange: {
        StartingHashKey: (width * BigInt(i)).toString(),
        EndingHashKey: (i === count - 1 ? MAX_HASH_KEY : width * BigInt(i + 1) - 1n).toString(),
      },
    })),
  )
}

async function requestBuilding(rounds: number): Promise<Row[]> {
  const rows: Row[] = []
  const cases = [
    { label: `${RECORDS_PER_REQUEST} × 100 B records`, count: RECORDS_PER_REQUEST, bytes: 100, aggregated: false },
    { label: '10 × 50 KiB aggregates, per aggregate', count: 10, bytes: 50 * 1024, aggregated: true },
  ]
  for (const { label, count, bytes, aggregated } of cases) {
    const records: BenchRecord[] = Array.from({ length: count }, (_, i) => ({
      data: randomBytes(bytes),
      partitionKey: `partition-key-${i}`,
      explicitHashKey: aggregated ? hashKeyOf(`partition-key-${i}`).toString() : undefined,
    }))
    const calls = Math.max(4, Math.round(200_000 / (count * Math.max(1, bytes / 100))))
    const sdkBodies: number[] = []
    const ourBodies: number[] = []
    const sdk = buildOnlyClient(sdkBodies)
    const ours = buildOnlyClient(ourBodies)
    const before = await cpuNsPerItem(calls * count, rounds, async () => {
      for (let c = 0; c < calls; c++) await sdkPutRecords(sdk, STREAM, records)
    })
    const after = await cpuNsPerItem(calls * count, rounds, async () => {
      for (let c = 0; c < calls; c++) {
        const command = new PutRecordsCommand({
          StreamName: STREAM,
          Records: records.map((r) => ({
            Data: r.data,
            PartitionKey: r.partitionKey,
            ExplicitHashKey: r.explicitHashKey,
          })),
        })
        usePrebuiltPutRecords(command, encodePutRecordsBody({ streamName: STREAM }, records))
        await ours.send(command)
      }
    })
    if (sdkBodies[0] !== ourBodies[0])
      throw new Error(`bodies differ in size: SDK ${sdkBodies[0]}, ours ${ourBodies[0]}`)
    const bodyOnly = await cpuNsPerItem(calls * count, rounds, () => {
      for (let c = 0; c < calls; c++) encodePutRecordsBody({ streamName: STREAM }, records)
    })
    rows.push({ measure: `request building through the client, ${label}`, before, after })
    rows.push({ measure: `encodePutRecordsBody alone, ${label}`, before: undefined, after: bodyOnly })
    sdk.destroy()
    ours.destroy()
  }
  return rows
}

async function wholeCall(rounds: number): Promise<Row[]> {
  const rows: Row[] = []
  const cases = [
    { label: `${RECORDS_PER_REQUEST} × 100 B records`, count: RECORDS_PER_REQUEST, bytes: 100, calls: 200 },
    { label: '10 × 50 KiB aggregates, per aggregate', count: 10, bytes: 50 * 1024, calls: 100 },
  ]
  for (const { label, count, bytes, calls } of cases) {
    const records = Array.from({ length: count }, (_, i) => ({
      data: randomBytes(bytes),
      partitionKey: `partition-key-${i}`,
      explicitHashKey: bytes > 100 ? hashKeyOf(`partition-key-${i}`).toString() : undefined,
    }))
    const response = acceptedBody(count)
    const kinesis = benchClient(() => response)
    const target = { streamName: STREAM, streamARN: undefined } as unknown as StreamTarget
    const signal = new AbortController().signal
    const before = await cpuNsPerItem(calls * count, rounds, async () => {
      for (let c = 0; c < calls; c++) await sdkPutRecords(kinesis, STREAM, records)
    })
    const after = await cpuNsPerItem(calls * count, rounds, async () => {
      for (let c = 0; c < calls; c++) {
        const outcome = await putRecords(kinesis, target, records as unknown as KinesisRecord[], 60_000, signal)
        if (!outcome.ok) throw outcome.error
      }
    })
    kinesis.destroy()
    rows.push({ measure: `whole PutRecords (build, sign, parse the answer), ${label}`, before, after })
  }
  return rows
}

async function hashKeys(count: number, hotKeys: number, rounds: number): Promise<Row[]> {
  const hot = Array.from({ length: count }, (_, i) => `partition-key-${i % hotKeys}`)
  // Fresh keys for every round (and the warm-up), made before the clock starts.
  const uniqueRounds = Array.from({ length: rounds + 1 }, (_, round) =>
    Array.from({ length: count }, (_, i) => `unique-key-${round}-${i}`),
  )
  const unique = (round: number) => uniqueRounds[round + 1]!
  const rows: Row[] = []
  let sink = 0
  {
    const before = new BigIntHashKeyCache()
    const after = new HashKeyCache()
    rows.push({
      measure: `partition key → hash key, ${hotKeys} hot keys (cached)`,
      before: await cpuNsPerItem(count, rounds, () => {
        for (const key of hot) sink ^= Number(before.get(key) & 1n)
      }),
      after: await cpuNsPerItem(count, rounds, () => {
        for (const key of hot) sink ^= after.entry(key).low
      }),
    })
  }
  {
    const before = new BigIntHashKeyCache()
    const after = new HashKeyCache()
    rows.push({
      measure: 'partition key → hash key, unique keys (through the cache)',
      before: await cpuNsPerItem(count, rounds, (round) => {
        for (const key of unique(round)) sink ^= Number(before.get(key) & 1n)
      }),
      after: await cpuNsPerItem(count, rounds, (round) => {
        for (const key of unique(round)) sink ^= after.entry(key).low
      }),
    })
  }
  rows.push({
    measure: 'hash of one key: hashKeyOf (BigInt) vs partitionKeyHashOf (parts)',
    before: await cpuNsPerItem(count, rounds, (round) => {
      for (const key of unique(round)) sink ^= Number(hashKeyOf(key) & 1n)
    }),
    after: await cpuNsPerItem(count, rounds, (round) => {
      for (const key of unique(round)) sink ^= partitionKeyHashOf(key).low
    }),
  })
  if (sink === 0.5) console.log(sink)
  return rows
}

async function shardLookups(count: number, hotKeys: number, rounds: number): Promise<Row[]> {
  const rows: Row[] = []
  const keys = Array.from({ length: count }, (_, i) => hashKeyOf(`partition-key-${i}`))
  const parts = keys.map(hashKeyParts)
  let sink = 0
  for (const shards of [4, 64]) {
    const map = evenShardMap(shards)
    rows.push({
      measure: `hash key → shard, ${shards} shards (BigInt vs parts search)`,
      before: await cpuNsPerItem(count, rounds, () => {
        for (const key of keys) sink ^= map.shardFor(key)!.length
      }),
      after: await cpuNsPerItem(count, rounds, () => {
        for (const key of parts) sink ^= map.shardForParts(key)!.length
      }),
    })
  }
  const map = evenShardMap(4)
  const hot = Array.from({ length: count }, (_, i) => `partition-key-${i % hotKeys}`)
  const before = new BigIntHashKeyCache()
  const after = new HashKeyCache()
  rows.push({
    measure: `partition key → shard as the producer asks, ${hotKeys} hot keys, 4 shards`,
    before: await cpuNsPerItem(count, rounds, () => {
      for (const key of hot) sink ^= map.shardFor(before.get(key))!.length
    }),
    after: await cpuNsPerItem(count, rounds, () => {
      for (const key of hot) sink ^= after.entry(key).shardIn(map)!.length
    }),
  })
  const entries = hot.map((key) => new PartitionKeyEntry(key))
  rows.push({
    measure: '  of which entry.shardIn(map), remembered per entry',
    before: undefined,
    after: await cpuNsPerItem(count, rounds, () => {
      for (const entry of entries) sink ^= entry.shardIn(map)!.length
    }),
  })
  if (sink === 0.5) console.log(sink)
  return rows
}

export async function run(): Promise<void> {
  const count = envNumber('BENCH_PRODUCER_CPU_RECORDS', 200_000)
  const hotKeys = envNumber('BENCH_PRODUCER_CPU_KEYS', 2_000)
  const rounds = envNumber('BENCH_ROUNDS', 5)
  console.log(`CPU ns per record, best of ${rounds} rounds; ${count} records per hash-key and shard round`)
  printRows('PutRecords request building and calls', 'ns/record', [
    ...(await requestBuilding(rounds)),
    ...(await wholeCall(rounds)),
  ])
  printRows('Hash keys', 'ns/key', await hashKeys(count, hotKeys, rounds))
  printRows('Shard lookup', 'ns/key', await shardLookups(count, hotKeys, rounds))
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
  await run()
}

/**
 * What record headers cost the producer (issue 19): user records/s and CPU µs per record of a whole
 * KinesisProducer (validation, aggregation, request building, settling) with 0 and with 3 headers per
 * record, against a client whose handler answers at once (ListShards: BENCH_HEADERS_SHARDS even shards;
 * PutRecords: every entry accepted on its owning shard), so the producer's own work is what is measured
 * (plus the fake endpoint's JSON.parse of each body, in the same process: larger with headers, so the
 * cost shown for headers is, if anything, overstated). rateLimit is
 * raised out of the way: the shard limits are not what this compares. Best of BENCH_ROUNDS rounds.
 * Knobs: BENCH_HEADERS_RECORDS (200000), BENCH_HEADERS_SHARDS (16), BENCH_ROUNDS (3).
 */
import { Readable } from 'node:stream'
import { KinesisClient } from '@aws-sdk/client-kinesis'
import { MAX_HASH_KEY, hashKeyOf } from '@kinesis-ts/shared'
import { KinesisProducer, type UserRecord } from '../../packages/producer/src/index.js'
import { envNumber, printTable } from '../lib/table.js'

const STREAM = 'bench-headers'
const WINDOW = 20_000

function listShardsBody(shards: number): string {
  const step = (MAX_HASH_KEY + 1n) / BigInt(shards)
  const Shards = Array.from({ length: shards }, (_, i) => ({
    ShardId: `shardId-${String(i).padStart(12, '0')}`,
    HashKeyRange: {
      StartingHashKey: (step * BigInt(i)).toString(),
      EndingHashKey: (i === shards - 1 ? MAX_HASH_KEY : step * BigInt(i + 1) - 1n).toString(),
    },
    SequenceNumberRange: { StartingSequenceNumber: '1' },
  }))
  return JSON.stringify({ Shards })
}

/** The owning shard of each entry of a PutRecords body, as Kinesis would answer. */
function shardsOf(body: string, shards: number): string[] {
  const step = (MAX_HASH_KEY + 1n) / BigInt(shards)
  const { Records } = JSON.parse(body) as { Records: { PartitionKey: string; ExplicitHashKey?: string }[] }
  return Records.map((entry) => {
    const hashKey = entry.ExplicitHashKey === undefined ? hashKeyOf(entry.PartitionKey) : BigInt(entry.ExplicitHashKey)
    const index = Number(hashKey / step)
    return `shardId-${String(Math.min(index, shards - 1)).padStart(12, '0')}`
  })
}

function instantClient(shards: number): KinesisClient {
  const listShards = listShardsBody(shards)
  return new KinesisClient({
    region: 'us-east-1',
    endpoint: 'http://kinesis.bench:4567',
    credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'secret' },
    maxAttempts: 1,
    requestHandler: {
      handle: async (request: { headers: Record<string, string>; body?: unknown }) => {
        const target = request.headers['x-amz-target'] ?? ''
        let body = listShards
        if (target.endsWith('PutRecords')) {
          const raw = request.body
          const text = typeof raw === 'string' ? raw : Buffer.from(raw as Uint8Array).toString('latin1')
          const Records = shardsOf(text, shards).map((ShardId) => ({
            SequenceNumber: '49654893543534534534534534534534534534534534534534000001',
            ShardId,
          }))
          body = JSON.stringify({ FailedRecordCount: 0, Records })
        }
        return {
          response: {
            statusCode: 200,
            headers: { 'content-type': 'application/x-amz-json-1.1' },
            body: Readable.from([Buffer.from(body)]),
          },
        }
      },
    },
  })
}

const DATA = Buffer.alloc(100, 'x')
const record = (i: number, headers: boolean): UserRecord => ({
  partitionKey: `key-${i % 2000}`,
  data: DATA,
  ...(headers
    ? {
        headers: {
          'content-type': 'application/json',
          'x-request-id': `req-${i.toString(16).padStart(12, '0')}-0000-4000-8000`,
          'x-tenant': `tenant-${i % 50}`,
        },
      }
    : {}),
})

/** One round: `count` records through a fresh producer; wall ms and CPU µs. */
async function round(count: number, shards: number, headers: boolean): Promise<{ wallMs: number; cpuUs: number }> {
  const kinesisClient = instantClient(shards)
  const producer = new KinesisProducer({ streamName: STREAM, kinesisClient, rateLimit: 1_000_000 })
  const started = performance.now()
  const cpu = process.cpuUsage()
  // A sliding window of unsettled records, as a steady caller keeps: record i waits for record i - WINDOW.
  const pending = new Array<Promise<unknown>>(count)
  for (let i = 0; i < count; i++) {
    if (i >= WINDOW) await pending[i - WINDOW]
    pending[i] = producer.addUserRecord(record(i, headers))
  }
  await Promise.all(pending)
  await producer.close()
  const used = process.cpuUsage(cpu)
  const wallMs = performance.now() - started
  kinesisClient.destroy()
  return { wallMs, cpuUs: used.user + used.system }
}

export async function run(): Promise<void> {
  const count = envNumber('BENCH_HEADERS_RECORDS', 200_000)
  const shards = envNumber('BENCH_HEADERS_SHARDS', 16)
  const rounds = envNumber('BENCH_ROUNDS', 3)
  const results = new Map<boolean, { wallMs: number; cpuUs: number }>()
  await round(Math.min(count, 20_000), shards, true) // warm-up
  for (let r = 0; r < rounds; r++) {
    // Alternated, so a disturbance of the shared machine hits both alike.
    for (const headers of [false, true]) {
      const result = await round(count, shards, headers)
      const best = results.get(headers)
      if (best === undefined || result.wallMs < best.wallMs) results.set(headers, result)
    }
  }
  const plain = results.get(false)!
  const tagged = results.get(true)!
  const row = (name: string, r: { wallMs: number; cpuUs: number }) => [
    name,
    Math.round((count / r.wallMs) * 1000).toLocaleString('en-US'),
    (r.cpuUs / count).toFixed(2),
    (r.wallMs / plain.wallMs).toFixed(2),
  ]
  printTable(
    `Producer with record headers: ${count} × 100 B records, ${shards} shards, instant endpoint, best of ${rounds}`,
    ['records', 'records/s', 'CPU µs/record', 'time vs 0 headers'],
    [row('0 headers', plain), row('3 headers (~90 B)', tagged)],
  )
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
  await run()
}

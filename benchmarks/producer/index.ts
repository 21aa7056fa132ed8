/**
 * Producer throughput against a loopback sink that answers like Kinesis (so the client's own
 * ceiling is measured): kinesis-ts, a naive SDK PutRecords loop (500 raw records per call) and
 * aws-kinesis-agg aggregate() + PutRecords, 24 requests in flight each, every contender in its own
 * plain-Node process on the built packages, for a clean peak RSS. Then kinesis-ts against kinesis-local,
 * for reference.
 * Knobs: BENCH_PRODUCER_RECORDS (1000000), BENCH_PRODUCER_SHARDS (4), BENCH_PRODUCER_LOCAL_RECORDS (100000).
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { CreateStreamCommand, DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis'
import { createKinesisClient, sleep } from '@kinesis-ts/shared'
import { localCredentials, startLocalKinesis } from '@kinesis-ts/shared/testing'
import { build } from 'esbuild'
import { KinesisProducer } from '../../packages/producer/src/index.js'
import { type BenchRow, envNumber, printComparison, printRatio } from '../lib/table.js'
import { startSink } from './sink.js'

const execFileAsync = promisify(execFile)
const contenderSource = fileURLToPath(new URL('./contender.ts', import.meta.url))
// Under benchmarks/ so that the packages it leaves as imports resolve from benchmarks/node_modules.
const contenderFile = fileURLToPath(new URL('../dist/producer-contender.mjs', import.meta.url))

/**
 * The contender as one plain JavaScript file (its own helpers inlined, packages imported as built):
 * under tsx, the loader alone adds about 30 MB to every contender's RSS, which no user pays.
 */
async function bundleContender(): Promise<void> {
  await build({
    entryPoints: [contenderSource],
    outfile: contenderFile,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
  })
}

async function measure(name: string, records: number, bytes: number, endpoint: string) {
  const { stdout } = await execFileAsync(
    process.execPath,
    [contenderFile, name, String(records), String(bytes), endpoint],
    {
      maxBuffer: 1024 * 1024,
    },
  )
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { recordsPerSecond: number; peakRssMb: number }
}

async function localReference(records: number): Promise<number> {
  const local = await startLocalKinesis()
  const options = { region: 'us-east-1', endpoint: local.endpoint, credentials: localCredentials }
  const admin = createKinesisClient(options)
  try {
    await admin.send(new CreateStreamCommand({ StreamName: 'bench', ShardCount: 4 }))
    for (;;) {
      const summary = await admin.send(new DescribeStreamSummaryCommand({ StreamName: 'bench' }))
      if (summary.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') break
      await sleep(50)
    }
    const producer = new KinesisProducer({ streamName: 'bench', ...options })
    const start = performance.now()
    const pending = []
    for (let i = 0; i < records; i++)
      pending.push(producer.addUserRecord({ partitionKey: `key-${i % 10_000}`, data: Buffer.alloc(100, 7) }))
    await Promise.all(pending)
    const rate = records / ((performance.now() - start) / 1000)
    await producer.close()
    return rate
  } finally {
    admin.destroy()
    await local.stop()
  }
}

export async function run(): Promise<void> {
  const records = envNumber('BENCH_PRODUCER_RECORDS', 1_000_000)
  await bundleContender()
  const sink = await startSink({ shards: envNumber('BENCH_PRODUCER_SHARDS', 4) })
  try {
    for (const bytes of [100, 1024]) {
      const count = bytes === 100 ? records : Math.round(records / 4)
      const rows: BenchRow[] = []
      const results = new Map<string, number>()
      for (const name of ['kinesis-ts', 'kinesis-ts (preserveOrder: false)', 'naive', 'aws-kinesis-agg']) {
        const result = await measure(name, count, bytes, sink.endpoint)
        results.set(name, result.recordsPerSecond)
        rows.push({ name, value: result.recordsPerSecond, extra: { 'peak RSS MB': result.peakRssMb } })
      }
      printComparison(
        `${count.toLocaleString('en-US')} user records of ${bytes} bytes to a loopback sink`,
        'records/s',
        rows,
      )
      if (bytes === 100) {
        printRatio('kinesis-ts vs naive PutRecords (100 B)', results.get('kinesis-ts')! / results.get('naive')!, 10)
        printRatio(
          'kinesis-ts vs aws-kinesis-agg (100 B)',
          results.get('kinesis-ts')! / results.get('aws-kinesis-agg')!,
          3,
        )
        const unordered = results.get('kinesis-ts (preserveOrder: false)')!
        printRatio(
          'kinesis-ts (preserveOrder: false) vs naive PutRecords (100 B)',
          unordered / results.get('naive')!,
          10,
        )
        printRatio(
          'kinesis-ts (preserveOrder: false) vs aws-kinesis-agg (100 B)',
          unordered / results.get('aws-kinesis-agg')!,
          3,
        )
        const rss = rows.find((row) => row.name === 'kinesis-ts')?.extra?.['peak RSS MB']
        const verdict = typeof rss === 'number' && rss < 300 ? 'PASS' : 'MISS'
        console.log(
          `kinesis-ts peak RSS with ${count.toLocaleString('en-US')} records offered: ${rss} MB (target < 300 MB) ${verdict}`,
        )
      }
    }
  } finally {
    await sink.close()
  }
  const localRecords = envNumber('BENCH_PRODUCER_LOCAL_RECORDS', 100_000)
  const localRate = await localReference(localRecords)
  console.log(
    `\nReference: kinesis-ts into kinesis-local (4 shards, 100 B): ${Math.round(localRate).toLocaleString('en-US')} records/s`,
  )
}

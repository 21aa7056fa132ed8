/**
 * Worker-thread processing: a CPU-bound processor (~50 µs of hashing per record) over 4 shards in the
 * main thread vs in worker threads, and one hot shard with lanesPerShard 1 vs 2. Same records, same
 * processor module, batches driven as the consumer does (one batch in flight per shard).
 * Knobs: BENCH_WORKER_RECORDS (records per shard, 5000), BENCH_WORKER_BATCH (500), BENCH_ROUNDS (3).
 */
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import type { Checkpointer, KinesisClientRecord, ShardRecordProcessor } from '../../packages/consumer/src/types.js'
import { createWorkerThreadHost } from '../../packages/consumer/src/workers/index.js'
import { bestRate } from '../lib/measure.js'
import { envNumber, printComparison, printRatio } from '../lib/table.js'
import createInThread, { burn } from './cpu-processor.js'

const processorModule = new URL('./cpu-processor.ts', import.meta.url)

/** Hash rounds that take about 50 µs on this machine. */
function calibrate(): number {
  const data = Buffer.alloc(100, 7)
  const probe = 20_000
  const start = performance.now()
  burn(data, probe)
  const perRound = (performance.now() - start) / probe
  return Math.max(1, Math.round(0.05 / perRound))
}

const noCheckpoint: Checkpointer = {
  checkpoint: async () => {},
  prepareCheckpoint: async () => ({
    pendingCheckpoint: { sequenceNumber: '0', subSequenceNumber: 0 },
    checkpoint: async () => {},
  }),
}

function batchesFor(shard: number, perShard: number, batchSize: number, keys: number): KinesisClientRecord[][] {
  const batches: KinesisClientRecord[][] = []
  let sequence = BigInt(shard) * 10_000_000n
  for (let start = 0; start < perShard; start += batchSize) {
    batches.push(
      Array.from({ length: Math.min(batchSize, perShard - start) }, (_, i) => ({
        data: Buffer.from(`record-${shard}-${start + i}`.padEnd(100, '.')),
        partitionKey: `key-${(start + i) % keys}`,
        sequenceNumber: (sequence++).toString(),
        subSequenceNumber: 0,
        approximateArrivalTimestamp: new Date(),
        aggregated: false,
        headers: {},
      })),
    )
  }
  return batches
}

/** Each shard's batches one after another, shards side by side: the consumer's scheduling. */
async function drive(processors: ShardRecordProcessor[], shards: KinesisClientRecord[][][]): Promise<void> {
  await Promise.all(
    processors.map(async (processor, shard) => {
      for (const records of shards[shard] ?? []) {
        await processor.processRecords({ records, checkpointer: noCheckpoint, millisBehindLatest: 0 })
      }
    }),
  )
}

async function measure(
  label: string,
  shardCount: number,
  make: (shardId: string) => ShardRecordProcessor,
  perShard: number,
  batchSize: number,
  rounds: number,
) {
  const shards = Array.from({ length: shardCount }, (_, s) => batchesFor(s, perShard, batchSize, 200))
  const processors = shards.map((_, s) => make(`shardId-${s}`))
  await Promise.all(
    processors.map((p, s) =>
      p.initialize({
        shardId: `shardId-${s}`,
        extendedSequenceNumber: { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 },
      }),
    ),
  )
  const rate = await bestRate(shardCount * perShard, rounds, () => drive(processors, shards))
  return { name: label, value: rate }
}

/**
 * What this machine gives at best: the same hashing in `threads` bare worker threads vs one, no
 * consumer in between. On shared or throttled vCPUs it is well below the core count.
 */
const BARE_WORKER = `
const { parentPort, workerData } = require('node:worker_threads')
const { createHash } = require('node:crypto')
let digest = Buffer.alloc(100, 7)
for (let i = 0; i < workerData.records * workerData.rounds; i++) digest = createHash('sha256').update(digest).digest()
parentPort.postMessage(digest[0])
`

async function bareThreads(threads: number, records: number, rounds: number): Promise<void> {
  await Promise.all(
    Array.from(
      { length: threads },
      () =>
        new Promise<void>((resolve, reject) => {
          const worker = new Worker(BARE_WORKER, { eval: true, workerData: { records: records / threads, rounds } })
          worker.once('message', () => resolve())
          worker.once('error', reject)
        }),
    ),
  )
}

async function machineCeiling(threads: number, records: number, rounds: number, repeats: number): Promise<number> {
  const one = await bestRate(records, repeats, () => bareThreads(1, records, rounds))
  const all = await bestRate(records, repeats, () => bareThreads(threads, records, rounds))
  return all / one
}

export async function run(): Promise<void> {
  const perShard = envNumber('BENCH_WORKER_RECORDS', 5000)
  const batchSize = envNumber('BENCH_WORKER_BATCH', 500)
  const rounds = envNumber('BENCH_ROUNDS', 3)
  const threads = availableParallelism()
  process.env.BENCH_HASH_ROUNDS = String(calibrate())
  console.log(`${threads} cores; ${process.env.BENCH_HASH_ROUNDS} SHA-256 rounds ≈ 50 µs per record`)

  const hashRounds = Number(process.env.BENCH_HASH_ROUNDS)
  const ceiling = await machineCeiling(threads, 4 * perShard, hashRounds, rounds)
  console.log(
    `machine ceiling: ${threads} bare threads hash ${ceiling.toFixed(2)}x as fast as one (the most any pool can reach here)`,
  )

  const inThread = await measure('in-thread', 4, () => createInThread(), perShard, batchSize, rounds)
  const pool = createWorkerThreadHost({ processorModule, workerThreads: threads })
  const inWorkers = await measure(
    `worker threads (${threads})`,
    4,
    (id) => pool.create(id),
    perShard,
    batchSize,
    rounds,
  )
  await pool.close()
  printComparison('4 shards, CPU-bound processor', 'records/s', [inThread, inWorkers])
  printRatio('worker threads vs in-thread', inWorkers.value / inThread.value, 1.7)

  const hot = 4 * perShard
  const oneLane = createWorkerThreadHost({ processorModule, workerThreads: threads, lanesPerShard: 1 })
  const single = await measure('hot shard, lanesPerShard 1', 1, (id) => oneLane.create(id), hot, batchSize, rounds)
  await oneLane.close()
  const twoLanes = createWorkerThreadHost({ processorModule, workerThreads: threads, lanesPerShard: 2 })
  const double = await measure('hot shard, lanesPerShard 2', 1, (id) => twoLanes.create(id), hot, batchSize, rounds)
  await twoLanes.close()
  printComparison('1 hot shard, CPU-bound processor', 'records/s', [single, double])
  printRatio('lanesPerShard 2 vs 1', double.value / single.value, 1.7)
}

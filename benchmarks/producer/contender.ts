/**
 * One producer contender in a process of its own, so its peak RSS is its own: bundled by index.ts, then
 * `node producer-contender.mjs <contender> <records> <bytes> <endpoint>` prints one JSON line
 * { recordsPerSecond, peakRssMb }. Records are offered as fast as each contender takes them.
 */
import { PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis'
import { KinesisProducer } from '@kinesis-ts/producer'
import { createKinesisClient } from '@kinesis-ts/shared'
import { type AggEncoded, type AggInput, aggregateAll } from '../lib/aws-kinesis-agg.js'
import { sampleRss } from '../lib/table.js'

const [name, recordsArg, bytesArg, endpoint] = process.argv.slice(2)
const total = Number(recordsArg)
const bytes = Number(bytesArg)
const KEYS = 10_000
const CONCURRENCY = 24
const credentials = { accessKeyId: 'bench', secretAccessKey: 'bench' }
const clientOptions = { region: 'us-east-1', endpoint, credentials }
const payload = Buffer.alloc(bytes, 7)
const keyOf = (i: number) => `key-${i % KEYS}`

/** Runs `tasks` with at most CONCURRENCY in flight. */
async function pool<T>(tasks: Iterable<T>, run: (task: T) => Promise<unknown>): Promise<void> {
  const iterator = tasks[Symbol.iterator]()
  const worker = async () => {
    for (let next = iterator.next(); !next.done; next = iterator.next()) await run(next.value)
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
}

function* batchesOf<T>(items: Iterable<T>, size: (item: T) => number, maxCount = 500, maxBytes = 5 * 1024 * 1024) {
  let batch: T[] = []
  let batchBytes = 0
  for (const item of items) {
    const itemBytes = size(item)
    if (batch.length === maxCount || batchBytes + itemBytes > maxBytes) {
      yield batch
      batch = []
      batchBytes = 0
    }
    batch.push(item)
    batchBytes += itemBytes
  }
  if (batch.length > 0) yield batch
}

async function kinesisTs(preserveOrder: boolean): Promise<void> {
  // The sink has no shard limits: lift the rate limiter so the client's own ceiling shows.
  const producer = new KinesisProducer({ streamName: 'bench', ...clientOptions, rateLimit: 1_000_000, preserveOrder })
  const window = new Array<Promise<unknown> | undefined>(50_000)
  const onError = (error: unknown) => {
    throw error
  }
  for (let i = 0; i < total; i++) {
    const slot = i % window.length
    const oldest = window[slot]
    if (oldest !== undefined) await oldest
    window[slot] = producer.addUserRecord({ partitionKey: keyOf(i), data: payload }).catch(onError)
  }
  await producer.flush()
  await Promise.all(window)
  await producer.close()
}

async function naive(): Promise<void> {
  const client = createKinesisClient({ ...clientOptions, maxSockets: CONCURRENCY })
  function* entries(): Iterable<PutRecordsRequestEntry> {
    for (let i = 0; i < total; i++) yield { PartitionKey: keyOf(i), Data: payload }
  }
  await pool(
    batchesOf(entries(), (e) => e.Data!.length + e.PartitionKey!.length),
    async (batch) => {
      const out = await client.send(new PutRecordsCommand({ StreamName: 'bench', Records: batch }))
      if (out.FailedRecordCount) throw new Error('sink refused records')
    },
  )
  client.destroy()
}

async function awsKinesisAggContender(): Promise<void> {
  const client = createKinesisClient({ ...clientOptions, maxSockets: CONCURRENCY })
  const CHUNK = 20_000
  function aggregateChunk(from: number): Promise<AggEncoded[]> {
    const records: AggInput[] = []
    for (let i = from; i < Math.min(total, from + CHUNK); i++) records.push({ partitionKey: keyOf(i), data: payload })
    return aggregateAll(records)
  }

  for (let from = 0; from < total; from += CHUNK) {
    const encoded = await aggregateChunk(from)
    const entries = encoded.map((e) => ({
      PartitionKey: e.partitionKey,
      ExplicitHashKey: e.explicitHashKey,
      Data: e.data,
    }))
    await pool(
      batchesOf(entries, (e) => e.Data.length + e.PartitionKey.length),
      async (batch) => {
        await client.send(new PutRecordsCommand({ StreamName: 'bench', Records: batch }))
      },
    )
  }
  client.destroy()
}

const contenders: Record<string, () => Promise<void>> = {
  'kinesis-ts': () => kinesisTs(true),
  // The KPL's own semantics: no order promise, several requests and aggregates per shard in flight.
  'kinesis-ts (preserveOrder: false)': () => kinesisTs(false),
  naive,
  'aws-kinesis-agg': awsKinesisAggContender,
}
const run = contenders[name ?? '']
if (run === undefined) throw new Error(`unknown contender ${name}`)
const rss = sampleRss()
const start = performance.now()
await run()
const seconds = (performance.now() - start) / 1000
console.log(JSON.stringify({ recordsPerSecond: total / seconds, peakRssMb: rss.stop() }))

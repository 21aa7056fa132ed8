import { AbortedError, EventHub, InMemoryMetrics, type MetricSummary, silentLogger } from '@kinesis-ts/shared'
import { describe, expect, it } from 'vitest'
import { resolveConsumerConfig } from './config.js'
import type { ConsumerEvents } from './events.js'
import { HeldLease } from './leases/held-lease.js'
import type { LeaseStore } from './leases/lease-store.js'
import { newLease } from './leases/lease.js'
import { METRICS } from './metrics.js'
import type { ProcessorHost, RawBatch, RecordSourceFactory } from './seams.js'
import { ShardConsumer } from './shard-consumer.js'
import type { ShardSyncer } from './shard-sync/shard-syncer.js'
import type { ProcessRecordsInput, ShardRecordProcessor } from './types.js'

const FULL_RANGE = { startingHashKey: '0', endingHashKey: String((1n << 128n) - 1n) }

function batchOf(first: number, count: number): RawBatch {
  return {
    millisBehindLatest: 0,
    records: Array.from({ length: count }, (_, i) => ({
      data: Buffer.from(`record-${first + i}`),
      partitionKey: `k${first + i}`,
      sequenceNumber: String(1000 + first + i),
      approximateArrivalTimestamp: new Date(0),
    })),
  }
}

/**
 * Runs one shard consumer over `batches` until it asks for one more (so every batch is accounted
 * for), stops it, and returns what reached the metrics sink.
 */
async function consume(
  batches: RawBatch[],
  processRecords: (input: ProcessRecordsInput) => Promise<void>,
  policy: 'retry' | 'skip',
): Promise<MetricSummary[]> {
  const metrics = new InMemoryMetrics()
  const processor: ShardRecordProcessor = {
    initialize() {},
    processRecords,
    leaseLost() {},
    shardEnded() {},
    shutdownRequested() {},
  }
  const config = resolveConsumerConfig({
    streamName: 'stream',
    applicationName: 'app',
    workerId: 'w',
    processorFactory: () => processor,
    processingErrorPolicy: policy,
    processingRetryBackoffBaseMillis: 1,
    processingRetryBackoffMaxMillis: 2,
  })
  const queue = [...batches]
  let drained = false
  const sources: RecordSourceFactory = {
    open: () => ({
      next: (signal) => {
        const batch = queue.shift()
        if (batch !== undefined) return Promise.resolve(batch)
        drained = true
        return new Promise((_, reject) =>
          signal.addEventListener('abort', () => reject(new AbortedError('next')), { once: true }),
        )
      },
      close: async () => {},
    }),
  }
  const host = { create: () => processor } as unknown as ProcessorHost
  const lease = { ...newLease('shardId-0', { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 }, [], FULL_RANGE) }
  const consumer = new ShardConsumer({
    config,
    held: new HeldLease({ ...lease, leaseOwner: 'w', leaseCounter: 1 }, 'w', async () => undefined, performance.now()),
    shard: { shardId: 'shardId-0', streamName: 's', ...FULL_RANGE },
    store: {} as LeaseStore,
    sources,
    host,
    syncer: {} as ShardSyncer,
    events: new EventHub<ConsumerEvents>(silentLogger),
    logger: silentLogger,
    metrics,
  })
  const running = consumer.run()
  const deadline = Date.now() + 5_000
  while (!drained) {
    if (Date.now() > deadline) throw new Error('the shard consumer did not finish the batches')
    await new Promise((resolve) => setImmediate(resolve))
  }
  consumer.requestShutdown()
  await running
  return metrics.snapshot()
}

const summary = (metrics: MetricSummary[], name: string) => {
  const found = metrics.filter((m) => m.name === name)
  expect(found, name).toHaveLength(1)
  expect(found[0]!.dimensions).toEqual({ ShardId: 'shardId-0' })
  return found[0]!
}

describe('ShardConsumer ProcessTask metrics (as the Java KCL ProcessTask publishes them)', () => {
  it("'retry': 1 per batch done, 0 per attempt that threw; empty fetches count as done tasks with 0 records", async () => {
    let calls = 0
    let seen = 0
    const metrics = await consume(
      [batchOf(0, 2), batchOf(2, 3), { records: [], millisBehindLatest: 0 }],
      async ({ records }) => {
        calls++
        // The second batch throws on its first two deliveries.
        if (records[0]?.partitionKey === 'k2' && calls <= 3) throw new Error('not yet')
        seen += records.length
      },
      'retry',
    )
    const success = summary(metrics, METRICS.processTaskSuccess)
    // Batch 1 done, batch 2 failed twice then done, the empty fetch done.
    expect(seen).toBe(5)
    expect(success).toMatchObject({ sampleCount: 5, sum: 3, min: 0, max: 1 })
    expect(summary(metrics, METRICS.processTaskTime).sampleCount).toBe(5)
    // Records count once per batch, not per attempt.
    expect(summary(metrics, METRICS.recordsProcessed)).toMatchObject({ sampleCount: 3, sum: 5 })
    expect(summary(metrics, METRICS.dataBytesProcessed)).toMatchObject({
      sampleCount: 3,
      sum: ['record-0', 'record-1', 'record-2', 'record-3', 'record-4'].join('').length,
    })
  })

  it("'skip' (the Java behaviour): a batch whose processRecords threw is a successful, skipped task", async () => {
    let calls = 0
    const metrics = await consume(
      [batchOf(0, 2), batchOf(2, 1)],
      async () => {
        calls++
        if (calls === 1) throw new Error('bad batch')
      },
      'skip',
    )
    expect(summary(metrics, METRICS.processTaskSuccess)).toMatchObject({ sampleCount: 2, sum: 2, min: 1 })
    expect(summary(metrics, METRICS.recordsProcessed)).toMatchObject({ sampleCount: 2, sum: 3 })
  })
})

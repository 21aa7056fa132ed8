import { AbortedError, EventHub, InMemoryMetrics, type MetricSummary, silentLogger } from '@kinesis-ts/shared'
import { describe, expect, it } from 'vitest'
import { type KinesisConsumerOptions, resolveConsumerConfig } from './config.js'
import type { ConsumerEvents } from './events.js'
import { HeldLease } from './leases/held-lease.js'
import type { LeaseStore } from './leases/lease-store.js'
import { type Lease, newLease } from './leases/lease.js'
import { METRICS } from './metrics.js'
import type { ProcessorHost, RawBatch, RecordSourceFactory } from './seams.js'
import { ShardConsumer } from './shard-consumer.js'
import type { ShardSyncer } from './shard-sync/shard-syncer.js'
import type { ExtendedSequenceNumber, PoisonRecord, ProcessRecordsInput, ShardRecordProcessor } from './types.js'

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
 * for), stops it, and returns what reached the metrics sink, the events and the checkpoints written.
 */
async function run(
  batches: RawBatch[],
  processRecords: (input: ProcessRecordsInput) => Promise<void>,
  policy: KinesisConsumerOptions['processingErrorPolicy'],
) {
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
  const checkpoints: string[] = []
  const store = {
    checkpoint: async (current: Lease, _owner: string, checkpoint: ExtendedSequenceNumber) => {
      checkpoints.push(checkpoint.sequenceNumber)
      return { ...current, checkpoint, leaseCounter: current.leaseCounter + 1 }
    },
  } as unknown as LeaseStore
  const events = new EventHub<ConsumerEvents>(silentLogger)
  const seen: { name: string; payload: unknown }[] = []
  for (const name of ['consumer.processing_error', 'consumer.record_dead_lettered'] as const) {
    events.on(name, (payload) => seen.push({ name, payload }))
  }
  const consumer = new ShardConsumer({
    config,
    held: new HeldLease({ ...lease, leaseOwner: 'w', leaseCounter: 1 }, 'w', async () => undefined, performance.now()),
    shard: { shardId: 'shardId-0', streamName: 's', ...FULL_RANGE },
    store,
    sources,
    host,
    syncer: {} as ShardSyncer,
    events,
    logger: silentLogger,
    metrics,
  })
  const running = consumer.run()
  const deadline = Date.now() + 5_000
  while (!drained) {
    if (Date.now() > deadline) throw new Error('the shard consumer did not finish the batches')
    await new Promise((resolve) => setImmediate(resolve))
  }
  const progress = consumer.progress
  consumer.requestShutdown()
  await running
  return { metrics: metrics.snapshot(), events: seen, checkpoints, progress }
}

async function consume(
  batches: RawBatch[],
  processRecords: (input: ProcessRecordsInput) => Promise<void>,
  policy: 'retry' | 'skip',
): Promise<MetricSummary[]> {
  return (await run(batches, processRecords, policy)).metrics
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

describe('ShardConsumer under a dead-letter policy', () => {
  it('a bare checkpoint in a piece names its last record, never one still being isolated; the batch is one done task', async () => {
    const dead: PoisonRecord[] = []
    const delivered: string[][] = []
    const { metrics, events, checkpoints, progress } = await run(
      [batchOf(0, 8), batchOf(8, 2)],
      async ({ records, checkpointer }) => {
        delivered.push(records.map((r) => r.partitionKey))
        if (records.some((r) => r.partitionKey === 'k5')) throw new Error('poison')
        await checkpointer.checkpoint()
      },
      { maxAttempts: 2, deadLetter: (poison) => void dead.push(poison) },
    )
    expect(delivered).toEqual([
      ['k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7'],
      ['k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7'],
      ['k0', 'k1', 'k2', 'k3'],
      ['k4', 'k5', 'k6', 'k7'],
      ['k4', 'k5', 'k6', 'k7'],
      ['k4', 'k5'],
      ['k4', 'k5'],
      ['k4'],
      ['k5'],
      ['k5'],
      ['k6', 'k7'],
      ['k8', 'k9'],
    ])
    // Checkpoints of 0-3 and of 4 stop there (the batch's last record, 1007, was delivered with them);
    // 6-7's passes the dead-lettered 1005.
    expect(checkpoints).toEqual(['1003', '1004', '1007', '1009'])
    expect(dead.map((p) => [p.record.partitionKey, p.attempts])).toEqual([['k5', 8]])
    expect(dead[0]!.error).toEqual(new Error('poison'))
    const dimensions = { ShardId: 'shardId-0' }
    const metric = (name: string) => metrics.find((m) => m.name === name)
    expect(metric(METRICS.recordsDeadLettered)).toMatchObject({ sum: 1, dimensions })
    expect(metric(METRICS.processingBisections)).toMatchObject({ sum: 3, dimensions })
    expect(metric(METRICS.processingRetries)).toMatchObject({ sum: 10, dimensions })
    // Two batches done; each of the 8 tries that threw counts 0.
    expect(metric(METRICS.processTaskSuccess)).toMatchObject({ sampleCount: 10, sum: 2 })
    expect(metric(METRICS.recordsProcessed)).toMatchObject({ sum: 10 })
    expect(events.filter((e) => e.name === 'consumer.processing_error')).toHaveLength(8)
    expect(events.filter((e) => e.name === 'consumer.record_dead_lettered').map((e) => e.payload)).toEqual([
      {
        shardId: 'shardId-0',
        partitionKey: 'k5',
        sequenceNumber: '1005',
        subSequenceNumber: 0,
        attempts: 8,
        error: new Error('poison'),
      },
    ])
    expect(progress).toMatchObject({ recordsProcessed: 10, recordsDeadLettered: 1, deadLetterFailures: 0 })
  })

  it("'retry' counts each redelivery in ProcessingRetries", async () => {
    let calls = 0
    const { metrics } = await run(
      [batchOf(0, 2)],
      async () => {
        if (++calls <= 3) throw new Error('not yet')
      },
      'retry',
    )
    expect(metrics.find((m) => m.name === METRICS.processingRetries)).toMatchObject({ sum: 3 })
  })
})

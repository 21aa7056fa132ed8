import { InMemoryMetrics, createKinesisClient } from '@kinesis-ts/shared'
import { afterAll, describe, expect, it } from 'vitest'
import type { KinesisClientRecord } from '../../packages/consumer/src/index.js'
import { clientOptions, createStream, endpoints, kinesisClient, uniqueName } from '../support/aws.js'
import { Fleet, putAll, waitFor } from './support/harness.js'
import { type Decide, startKinesisProxy } from './support/kinesis-proxy.js'

const kinesis = kinesisClient()
afterAll(() => kinesis.destroy())

const records = (tag: string, count: number) =>
  Array.from({ length: count }, (_, i) => ({ partitionKey: `key-${i % 5}`, data: Buffer.from(`${tag}-${i}`) }))

describe('processing errors', () => {
  it("'retry' (default) redelivers the same batch until processRecords succeeds", async () => {
    const stream = await createStream(kinesis, 1)
    await putAll(kinesis, stream, records('r', 20))
    const attempts: string[][] = []
    const fleet = new Fleet(
      stream,
      uniqueName('app'),
      {},
      {
        onRecords: ({ records: batch }) => {
          attempts.push(batch.map((r: KinesisClientRecord) => Buffer.from(r.data).toString()))
          if (attempts.length <= 2) throw new Error('downstream unavailable')
        },
      },
    )
    try {
      const worker = await fleet.start('w')
      const errors: unknown[] = []
      worker.on('consumer.processing_error', (e) => errors.push(e))
      await waitFor('records', () => fleet.journal.deliveries.length === 20)
      expect(errors).toHaveLength(2)
      expect(errors[0]).toMatchObject({ policy: 'retry', attempt: 0 })
      expect(attempts[1]).toEqual(attempts[0])
      expect(attempts[2]).toEqual(attempts[0])
      expect(fleet.journal.deliveries.map((d) => d.data)).toEqual(records('r', 20).map((r) => r.data.toString()))
    } finally {
      await fleet.close()
    }
  })

  it("'skip' logs the failed batch and moves on, as the Java KCL does", async () => {
    const stream = await createStream(kinesis, 1)
    let failures = 0
    const fleet = new Fleet(
      stream,
      uniqueName('app'),
      { processingErrorPolicy: 'skip' },
      {
        onRecords: ({ records: batch }) => {
          if (batch.some((r: KinesisClientRecord) => Buffer.from(r.data).toString() === 'first-3')) {
            failures++
            throw new Error('poison record')
          }
        },
      },
    )
    try {
      await fleet.start('w')
      await putAll(kinesis, stream, records('first', 10))
      await waitFor('the failure', () => failures === 1)
      await putAll(kinesis, stream, records('second', 10))
      await waitFor('second batch', () => fleet.journal.deliveries.length === 10)
      expect(failures).toBe(1)
      expect(fleet.journal.deliveries.every((d) => d.data.startsWith('second'))).toBe(true)
      // The processor checkpoints after journaling the batch: the write may land a moment later.
      const last = fleet.journal.deliveries.at(-1)!.sequenceNumber
      await waitFor('the checkpoint at the last record of the second batch', async () => {
        const [lease] = (await fleet.leases()).values()
        return lease?.checkpoint.sequenceNumber === last
      })
    } finally {
      await fleet.close()
    }
  })
})

describe('GetRecords faults (through a loopback proxy)', () => {
  async function consumeThrough(decide: Decide, maxRecords: number) {
    const stream = await createStream(kinesis, 1)
    await putAll(kinesis, stream, records('r', 300))
    const proxy = await startKinesisProxy(endpoints().kinesis, decide)
    // maxAttempts 1: the consumer's own backoff must handle every fault, not the SDK's retries.
    const proxied = createKinesisClient({ ...clientOptions(proxy.endpoint), maxAttempts: 1 })
    const metrics = new InMemoryMetrics()
    const fleet = new Fleet(stream, uniqueName('app'), {
      kinesisClient: proxied,
      metrics,
      maxRecords,
      getRecordsBackoffBaseMillis: 20,
      getRecordsBackoffMaxMillis: 200,
    })
    try {
      await fleet.start('w')
      await waitFor('all records', () => fleet.journal.deliveries.length >= 300)
      expect(fleet.journal.deliveries.map((d) => d.data)).toEqual(records('r', 300).map((r) => r.data.toString()))
      const sum = (name: string) =>
        metrics
          .snapshot()
          .filter((m) => m.name === name)
          .reduce((n, m) => n + m.sum, 0)
      return { getRecords: proxy.calls('GetRecords'), throttled: sum('GetRecords.Throttled') }
    } finally {
      await fleet.close()
      proxied.destroy()
      await proxy.close()
    }
  }

  it('backs off on throttling and loses nothing', async () => {
    let calls = 0
    const result = await consumeThrough((operation) => {
      if (operation !== 'GetRecords' || ++calls > 20 || calls % 2 === 0) return undefined
      return { type: 'ProvisionedThroughputExceededException', message: 'Rate exceeded for shard' }
    }, 25)
    expect(result.throttled).toBe(10)
    expect(result.getRecords).toBeGreaterThan(12)
  })

  it('replaces an expired iterator with one after the last record read: no gap, no repeat', async () => {
    let calls = 0
    await consumeThrough((operation) => {
      if (operation !== 'GetRecords') return undefined
      calls++
      return calls === 3 || calls === 6 ? { type: 'ExpiredIteratorException', message: 'Iterator expired' } : undefined
    }, 40)
    expect(calls).toBeGreaterThan(6)
  })
})

describe('start() initialization (as the Java KCL: maxInitializationAttempts, schedulerInitializationBackoffTimeMillis)', () => {
  it('tries again on transient errors, gives up after maxInitializationAttempts, and rejects at once on a terminal error', async () => {
    const stream = await createStream(kinesis, 1)
    await putAll(kinesis, stream, records('init', 5))
    let refusals = 0
    // Throttled ListShards answers, as a busy account would give: retriable.
    const proxy = await startKinesisProxy(endpoints().kinesis, (operation) =>
      operation === 'ListShards' && refusals-- > 0
        ? { type: 'LimitExceededException', message: 'slow down' }
        : undefined,
    )
    // maxAttempts 1: every refusal reaches the consumer instead of the SDK's own retries.
    const proxied = createKinesisClient({ ...clientOptions(proxy.endpoint), maxAttempts: 1 })
    const fleet = new Fleet(stream, uniqueName('app'), {
      kinesisClient: proxied,
      schedulerInitializationBackoffTimeMillis: 20,
    })
    try {
      refusals = 2
      await fleet.start('patient')
      expect(proxy.calls('ListShards')).toBeGreaterThanOrEqual(3)
      await waitFor('records after a slow start', () => fleet.journal.deliveries.length === 5)

      refusals = 1_000
      const before = proxy.calls('ListShards')
      const capped = fleet.start('capped', { applicationName: uniqueName('app'), maxInitializationAttempts: 3 })
      await expect(capped).rejects.toMatchObject({ code: 'ERR_AWS', awsCode: 'LimitExceededException' })
      expect(proxy.calls('ListShards') - before).toBe(3)

      const started = performance.now()
      const missing = new Fleet('no-such-stream', uniqueName('app'), {
        schedulerInitializationBackoffTimeMillis: 60_000,
      })
      try {
        await expect(missing.start('w')).rejects.toMatchObject({
          code: 'ERR_AWS',
          awsCode: 'ResourceNotFoundException',
        })
        // Not one backoff pause: a terminal error is not tried again.
        expect(performance.now() - started).toBeLessThan(60_000)
      } finally {
        await missing.close()
      }
    } finally {
      refusals = 0
      await fleet.close()
      proxied.destroy()
      await proxy.close()
    }
  })
})

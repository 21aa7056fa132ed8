import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Sink, startSink } from '../../benchmarks/producer/sink.js'
import {
  KinesisProducer,
  type KinesisProducerOptions,
  type UserRecordResult,
} from '../../packages/producer/src/index.js'

let sink: Sink
beforeAll(async () => {
  // A slow endpoint: every call takes 20 ms, so the producer cannot send as fast as it is fed.
  sink = await startSink({ shards: 16, delayMs: 20 })
})
afterAll(() => sink.close())

/** A producer of stream `streamName` on the slow sink, with the rate limiter out of the way. */
const sinkProducer = (streamName: string, options: Partial<KinesisProducerOptions> = {}) =>
  new KinesisProducer({
    streamName,
    region: 'us-east-1',
    endpoint: sink.endpoint,
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    rateLimit: 1_000_000,
    ...options,
  })

describe('KinesisProducer backpressure', () => {
  it('offering 1M records at once to a slow endpoint never holds more than maxOutstandingRecords / maxBufferedBytes', async () => {
    const maxOutstandingRecords = 20_000
    const maxBufferedBytes = 2 * 1024 * 1024
    const producer = sinkProducer('slow', { maxOutstandingRecords, maxBufferedBytes })
    let peakRecords = 0
    let peakBytes = 0
    const sample = () => {
      peakRecords = Math.max(peakRecords, producer.getOutstandingRecordsCount())
      peakBytes = Math.max(peakBytes, producer.getBufferedBytes())
    }
    const sampler = setInterval(sample, 5)
    const total = 1_000_000
    const payload = Buffer.alloc(100, 1)
    let settled = 0
    const onSettled = (result: UserRecordResult) => {
      if (result.successful) settled++
      if (settled % 10_000 === 0) sample()
    }
    // No await between offers: the caller fires everything; the producer must not take it all in.
    const all: Promise<void>[] = new Array(total)
    for (let i = 0; i < total; i++)
      all[i] = producer.addUserRecord({ partitionKey: `k-${i % 5000}`, data: payload }).then(onSettled)
    sample()
    expect(producer.getOutstandingRecordsCount()).toBeLessThanOrEqual(maxOutstandingRecords)
    expect(producer.getBufferedBytes()).toBeLessThanOrEqual(maxBufferedBytes)
    await Promise.all(all)
    clearInterval(sampler)
    await producer.close()
    expect(settled).toBe(total)
    expect(peakRecords).toBeGreaterThan(0)
    expect(peakRecords).toBeLessThanOrEqual(maxOutstandingRecords)
    expect(peakBytes).toBeLessThanOrEqual(maxBufferedBytes)
    expect(producer.getOutstandingRecordsCount()).toBe(0)
    expect(producer.getBufferedBytes()).toBe(0)
  })

  it('close() right after the calls puts every record at once, also those still waiting for room', async () => {
    // recordMaxBufferedTime far beyond the test's timeout: records admitted after close() must not wait for it.
    const producer = sinkProducer('slow', { maxOutstandingRecords: 10, recordMaxBufferedTime: 600_000 })
    const calls = Array.from({ length: 1_000 }, (_, i) =>
      producer.addUserRecord({ partitionKey: `k-${i}`, data: Buffer.from(`r-${i}`) }),
    )
    expect(producer.getOutstandingRecordsCount()).toBe(10)
    await producer.close()
    const results = await Promise.all(calls)
    expect(results.every((result) => result.successful && result.sequenceNumber !== undefined)).toBe(true)
    expect(producer.getOutstandingRecordsCount()).toBe(0)
    await expect(producer.addUserRecord({ partitionKey: 'late', data: 'x' })).rejects.toMatchObject({
      code: 'ERR_CLOSED',
    })
  })
})

describe('KinesisProducer flush', () => {
  it('flush() right after the first records sends them once the shard map arrives, not after recordMaxBufferedTime', async () => {
    const producer = sinkProducer('fresh', { recordMaxBufferedTime: 600_000 })
    // Added before the first ListShards answer: held for the map, which arrives after flush() was asked.
    const calls = Array.from({ length: 50 }, (_, i) => producer.addUserRecord({ partitionKey: `k-${i}`, data: 'x' }))
    await producer.flush()
    expect((await Promise.all(calls)).every((result) => result.successful)).toBe(true)
    await producer.close()
  })
})

import { ConfigurationError } from '@kinesis-ts/shared'
import { describe, expect, it } from 'vitest'
import { KinesisConsumer } from './kinesis-consumer.js'
import type { ShardRecordProcessor } from './types.js'

const base = { streamName: 'orders', applicationName: 'billing', region: 'us-east-1' }

describe('mode registry', () => {
  it('builds a polling consumer with an in-thread host', async () => {
    const consumer = new KinesisConsumer({ ...base, processorFactory: () => ({}) as ShardRecordProcessor })
    expect(consumer.config.retrieval.mode).toBe('polling')
    await consumer.shutdown()
    await expect(consumer.start()).rejects.toMatchObject({ code: 'ERR_CLOSED' })
  })

  it('builds a fan-out consumer (HTTP/2 subscriptions by default) without touching the network', async () => {
    const consumer = new KinesisConsumer({
      ...base,
      processorFactory: () => ({}) as ShardRecordProcessor,
      retrieval: { mode: 'fanout' },
    })
    expect(consumer.config.retrieval).toMatchObject({ mode: 'fanout', consumerName: 'billing', httpVersion: '2' })
    await consumer.shutdown()
  })

  it('passes fan-out tuning through and names a bad value with its option', async () => {
    const tuned = new KinesisConsumer({
      ...base,
      processorFactory: () => ({}) as ShardRecordProcessor,
      retrieval: { mode: 'fanout', stallTimeoutMs: 30_000, closedShardCheckIntervalMs: 0 },
    })
    expect(tuned.config.retrieval).toMatchObject({ stallTimeoutMs: 30_000, closedShardCheckIntervalMs: 0 })
    await tuned.shutdown()
    const create = () =>
      new KinesisConsumer({
        ...base,
        processorFactory: () => ({}) as ShardRecordProcessor,
        retrieval: { mode: 'fanout', stallTimeoutMs: -1 },
      })
    expect(create).toThrow(ConfigurationError)
    expect(create).toThrow(
      'Invalid option retrieval.stallTimeoutMs: expected an integer number of milliseconds in [10, 86400000] (received -1)',
    )
  })

  it('rejects a bad cloudWatch option, naming it', () => {
    const create = () =>
      new KinesisConsumer({
        ...base,
        processorFactory: () => ({}) as ShardRecordProcessor,
        cloudWatch: { flushIntervalMillis: 5 },
      })
    expect(create).toThrow(ConfigurationError)
    expect(create).toThrow(
      'Invalid option cloudWatch.flushIntervalMillis: expected an integer number of milliseconds in [1000, 3600000] (received 5)',
    )
  })

  it('builds a worker-thread consumer from a processorModule; shutdown before start frees the pool', async () => {
    const consumer = new KinesisConsumer({
      ...base,
      // Never loaded (no lease is taken), but it must exist.
      processorModule: new URL('./workers/lane-worker.ts', import.meta.url),
      workerThreads: 2,
      lanesPerShard: 2,
    })
    expect(consumer.config).toMatchObject({ workerThreads: 2, lanesPerShard: 2 })
    await consumer.shutdown()
  })

  it('rejects a processorModule file that does not exist, naming the option', () => {
    const create = () => new KinesisConsumer({ ...base, processorModule: new URL('file:///nonexistent/processor.js') })
    expect(create).toThrow(ConfigurationError)
    expect(create).toThrow(/processorModule.*nonexistent/)
  })

  it('rejects worker-thread options without a processorModule, naming the option', () => {
    const create = () =>
      new KinesisConsumer({ ...base, processorFactory: () => ({}) as ShardRecordProcessor, lanesPerShard: 2 })
    expect(create).toThrow(ConfigurationError)
    expect(create).toThrow(/workerThreads/)
  })
})

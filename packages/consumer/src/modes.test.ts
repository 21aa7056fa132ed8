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

  it('says fan-out is not available until it is plugged into modes.ts', () => {
    const create = () =>
      new KinesisConsumer({
        ...base,
        processorFactory: () => ({}) as ShardRecordProcessor,
        retrieval: { mode: 'fanout' },
      })
    expect(create).toThrow(ConfigurationError)
    expect(create).toThrow(/fan-out retrieval is not available/)
  })

  it('says worker-thread processing is not available until it is plugged into modes.ts', () => {
    const create = () => new KinesisConsumer({ ...base, processorModule: new URL('file:///processor.js') })
    expect(create).toThrow(/worker-thread processing is not available/)
  })
})

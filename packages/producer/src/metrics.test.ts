import type { KinesisClient } from '@aws-sdk/client-kinesis'
import { InMemoryMetrics } from '@kinesis-ts/shared'
import { describe, expect, it } from 'vitest'
import { KinesisProducer } from './kinesis-producer.js'
import { PRODUCER_METRICS } from './metrics.js'

/** One shard for every stream; every PutRecords entry succeeds. */
function acceptingClient(): KinesisClient {
  let sequence = 0
  const send = (command: { constructor: { name: string }; input: { Records?: unknown[] } }) => {
    if (command.constructor.name === 'ListShardsCommand') {
      return Promise.resolve({
        Shards: [
          { ShardId: 'shardId-0', HashKeyRange: { StartingHashKey: '0', EndingHashKey: String((1n << 128n) - 1n) } },
        ],
      })
    }
    const records = command.input.Records ?? []
    return Promise.resolve({
      FailedRecordCount: 0,
      Records: records.map(() => ({ ShardId: 'shardId-0', SequenceNumber: String(++sequence) })),
    })
  }
  return { send, destroy: () => {} } as unknown as KinesisClient
}

const sumOf = (sink: InMemoryMetrics, name: string, dimensions: Record<string, string>) =>
  sink
    .snapshot()
    .filter((m) => m.name === name && JSON.stringify(m.dimensions) === JSON.stringify(dimensions))
    .reduce((total, m) => total + m.sum, 0)

describe('producer metrics reach the metrics sink', () => {
  it('UserRecordsReceived: every record counted once, globally and per stream, as the KPL publishes it', async () => {
    const sink = new InMemoryMetrics()
    const producer = new KinesisProducer({
      streamName: 'orders',
      kinesisClient: acceptingClient(),
      recordMaxBufferedTime: 1,
      metrics: sink,
    })
    await Promise.all([
      ...Array.from({ length: 30 }, (_, i) => producer.addUserRecord({ partitionKey: `k${i}`, data: 'x' })),
      ...Array.from({ length: 12 }, (_, i) =>
        producer.addUserRecord({ partitionKey: `k${i}`, data: 'y', streamName: 'audit' }),
      ),
    ])
    await producer.close()
    expect(sumOf(sink, PRODUCER_METRICS.UserRecordsReceived, {})).toBe(42)
    expect(sumOf(sink, PRODUCER_METRICS.UserRecordsReceived, { StreamName: 'orders' })).toBe(30)
    expect(sumOf(sink, PRODUCER_METRICS.UserRecordsReceived, { StreamName: 'audit' })).toBe(12)
    // Never at shard level (the KPL's pipeline has no shard for a record it has just received).
    expect(sink.snapshot().some((m) => m.name === 'UserRecordsReceived' && 'ShardId' in m.dimensions)).toBe(false)
    // getMetrics() reports the same totals as the sink.
    const own = producer.getMetrics().filter((m) => m.name === 'UserRecordsReceived' && !('StreamName' in m.dimensions))
    expect(own.reduce((total, m) => total + m.sum, 0)).toBe(42)
  })

  it('UserRecordsReceived counts records that never reached a request (destroyed while waiting)', async () => {
    const sink = new InMemoryMetrics()
    const hanging = {
      send: () => new Promise(() => {}),
      destroy: () => {},
    } as unknown as KinesisClient
    const producer = new KinesisProducer({ streamName: 'orders', kinesisClient: hanging, metrics: sink })
    const pending = Array.from({ length: 5 }, (_, i) => producer.addUserRecord({ partitionKey: `k${i}`, data: 'x' }))
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(sumOf(sink, PRODUCER_METRICS.UserRecordsReceived, {})).toBe(0)
    producer.destroy()
    await Promise.allSettled(pending)
    producer.getMetrics()
    expect(sumOf(sink, PRODUCER_METRICS.UserRecordsReceived, {})).toBe(5)
    expect(sumOf(sink, PRODUCER_METRICS.UserRecordsReceived, { StreamName: 'orders' })).toBe(5)
  })
})

import type { KinesisClient } from '@aws-sdk/client-kinesis'
import { describe, expect, it } from 'vitest'
import { UserRecordFailedError } from './errors.js'
import { KinesisProducer } from './kinesis-producer.js'

/** A client stub for one behaviour: ListShards answers one shard, PutRecords never answers. */
function hangingClient(): KinesisClient {
  const send = (command: { constructor: { name: string } }) => {
    if (command.constructor.name === 'ListShardsCommand') {
      return Promise.resolve({
        Shards: [
          { ShardId: 'shardId-0', HashKeyRange: { StartingHashKey: '0', EndingHashKey: String((1n << 128n) - 1n) } },
        ],
      })
    }
    return new Promise(() => {})
  }
  return { send, destroy: () => {} } as unknown as KinesisClient
}

describe('KinesisProducer lifecycle', () => {
  it('destroy() fails every outstanding record with Destroyed, and later calls with ClosedError', async () => {
    const producer = new KinesisProducer({ streamName: 's', kinesisClient: hangingClient(), recordMaxBufferedTime: 1 })
    const pending = Array.from({ length: 50 }, (_, i) => producer.addUserRecord({ partitionKey: `k${i}`, data: 'x' }))
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(producer.getOutstandingRecordsCount()).toBe(50)
    expect(producer.getOldestRecordTimeMs()).toBeGreaterThan(0)
    producer.destroy()
    producer.destroy()
    for (const outcome of await Promise.allSettled(pending)) {
      expect(outcome.status).toBe('rejected')
      const error = (outcome as PromiseRejectedResult).reason as UserRecordFailedError
      expect(error).toBeInstanceOf(UserRecordFailedError)
      expect(error.errorCode).toBe('Destroyed')
      expect(error.record.data).toBe('x')
    }
    expect(producer.getOutstandingRecordsCount()).toBe(0)
    expect(producer.getBufferedBytes()).toBe(0)
    await expect(producer.addUserRecord({ partitionKey: 'k', data: 'x' })).rejects.toMatchObject({ code: 'ERR_CLOSED' })
  })

  it('destroy() also fails the calls still waiting for room, which never became outstanding', async () => {
    const producer = new KinesisProducer({
      streamName: 's',
      kinesisClient: hangingClient(),
      recordMaxBufferedTime: 1,
      maxOutstandingRecords: 10,
    })
    const pending = Array.from({ length: 25 }, (_, i) => producer.addUserRecord({ partitionKey: `k${i}`, data: 'x' }))
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(producer.getOutstandingRecordsCount()).toBe(10)
    producer.destroy()
    const outcomes = await Promise.allSettled(pending)
    expect(outcomes.map((outcome) => outcome.status)).toEqual(Array(25).fill('rejected'))
    for (const outcome of outcomes) {
      expect(((outcome as PromiseRejectedResult).reason as UserRecordFailedError).errorCode).toBe('Destroyed')
    }
    expect(producer.getOutstandingRecordsCount()).toBe(0)
  })

  it('close() with nothing outstanding resolves, is idempotent, and refuses new records', async () => {
    const producer = new KinesisProducer({ streamName: 's', kinesisClient: hangingClient() })
    const first = producer.close()
    expect(producer.close()).toBe(first)
    await first
    await expect(producer.addUserRecord({ partitionKey: 'k', data: 'x' })).rejects.toMatchObject({ code: 'ERR_CLOSED' })
  })

  it('rejects a record without a stream when the producer has no default stream', async () => {
    const producer = new KinesisProducer({ kinesisClient: hangingClient() })
    await expect(producer.addUserRecord({ partitionKey: 'k', data: 'x' })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      field: 'streamName',
    })
    await producer.close()
  })
})

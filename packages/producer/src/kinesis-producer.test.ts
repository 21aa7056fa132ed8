import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import type { KinesisClient } from '@aws-sdk/client-kinesis'
import { decodeAggregated } from '@kinesis-ts/shared'
import { describe, expect, it } from 'vitest'
import { UserRecordFailedError } from './errors.js'
import { KinesisProducer } from './kinesis-producer.js'
import { type StubEntry, stubKinesis } from './test-helpers.js'

/** The user records' data in the entries a stub stored, in order. */
const storedData = (entries: readonly StubEntry[]) =>
  entries.flatMap((e) => decodeAggregated(e.data, e).map((u) => Buffer.from(u.data).toString()))

/** A full garbage collection on demand, without starting the test runner with --expose-gc. */
function exposedGc(): () => void {
  setFlagsFromString('--expose-gc')
  return runInNewContext('gc') as () => void
}

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
    for (const [i, outcome] of (await Promise.allSettled(pending)).entries()) {
      expect(outcome.status).toBe('rejected')
      const error = (outcome as PromiseRejectedResult).reason as UserRecordFailedError
      expect(error).toBeInstanceOf(UserRecordFailedError)
      expect(error.errorCode).toBe('Destroyed')
      // The record as the producer held it: the string's UTF-8 bytes.
      expect(error.record).toEqual({ partitionKey: `k${i}`, data: Uint8Array.of(0x78) })
    }
    expect(producer.getOutstandingRecordsCount()).toBe(0)
    expect(producer.getBufferedBytes()).toBe(0)
    await expect(producer.addUserRecord({ partitionKey: 'k', data: 'x' })).rejects.toMatchObject({ code: 'ERR_CLOSED' })
  })

  it("fails a record with the producer's copy of it, not the caller's object", async () => {
    const producer = new KinesisProducer({ streamName: 's', kinesisClient: hangingClient(), recordMaxBufferedTime: 1 })
    const data = Buffer.from('abc')
    const headers = { trace: 't1' }
    const given = { partitionKey: 'k', explicitHashKey: '42', data, headers }
    const pending = producer.addUserRecord(given)
    data.fill(0) // the caller reuses its buffer: the failed record still has what was sent
    await new Promise((resolve) => setTimeout(resolve, 10))
    producer.destroy()
    const error = (await pending.catch((reason: unknown) => reason)) as UserRecordFailedError
    expect(error).toBeInstanceOf(UserRecordFailedError)
    expect(error.record).not.toBe(given)
    expect(error.record).toEqual({
      partitionKey: 'k',
      explicitHashKey: '42',
      data: Uint8Array.from(Buffer.from('abc')),
      headers,
    })
    expect(error.record.headers).toBe(headers)
    expect(error.record.data).not.toBe(data)
  })

  it("lets the caller's data be collected while its record is outstanding", async () => {
    const collect = exposedGc()
    const producer = new KinesisProducer({ streamName: 's', kinesisClient: hangingClient(), recordMaxBufferedTime: 1 })
    let data: Buffer | undefined = Buffer.alloc(64, 1)
    const dataRef = new WeakRef(data)
    const pending = producer.addUserRecord({ partitionKey: 'k', data }).catch(() => undefined)
    data = undefined
    await new Promise((resolve) => setTimeout(resolve, 10))
    collect()
    expect(producer.getOutstandingRecordsCount()).toBe(1)
    expect(dataRef.deref()).toBeUndefined()
    producer.destroy()
    await pending
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

describe("KinesisProducer and the caller's buffer", () => {
  it('sends the bytes data held when addUserRecord returned, though the caller refills its buffer at once', async () => {
    const stub = stubKinesis()
    // Records wait 50 ms to be aggregated, and most wait for room first: all after the caller moved on.
    const producer = new KinesisProducer({
      streamName: 's',
      kinesisClient: stub.client,
      recordMaxBufferedTime: 50,
      maxOutstandingRecords: 3,
    })
    const buffer = Buffer.alloc(8)
    const pending: Promise<unknown>[] = []
    const sent: string[] = []
    for (let i = 0; i < 10; i++) {
      buffer.write(`record-${i}`.padEnd(8, '.'), 'latin1')
      sent.push(buffer.toString('latin1'))
      pending.push(producer.addUserRecord({ partitionKey: 'k', data: buffer }))
    }
    buffer.fill('x')
    // A view into a larger buffer: only its own bytes are taken.
    const backing = Buffer.from('....view....')
    pending.push(producer.addUserRecord({ partitionKey: 'k', data: backing.subarray(4, 8) }))
    backing.fill('y')
    await Promise.all(pending)
    await producer.close()
    expect(storedData(stub.stored.get('shardId-0') ?? [])).toEqual([...sent, 'view'])
  })
})

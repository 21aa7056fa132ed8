import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { KinesisProducer, UserRecordFailedError, type UserRecordResult } from '../../packages/producer/src/index.js'
import { clientOptions, createStream, endpoints, kinesisClient } from '../support/aws.js'
import { type FaultPlan, type FaultProxy, startFaultProxy } from './support/fault-proxy.js'
import { deaggregate, readStream } from './support/read-back.js'

const kinesis = kinesisClient()
afterAll(() => kinesis.destroy())

let proxy: FaultProxy | undefined
afterEach(async () => {
  await proxy?.close()
  proxy = undefined
})

async function setUp(plan: FaultPlan, options: Record<string, unknown> = {}) {
  const streamName = await createStream(kinesis, 2, 'producer-faults')
  proxy = await startFaultProxy(endpoints().kinesis, plan)
  const producer = new KinesisProducer({
    streamName,
    ...clientOptions(proxy.endpoint),
    retryBackoffBaseMillis: 20,
    retryBackoffMaxMillis: 200,
    ...options,
  })
  return { streamName, producer, proxy }
}

const settle = (promises: Promise<UserRecordResult>[]) =>
  Promise.all(
    promises.map((p) =>
      p.then(
        (result) => ({ result, error: undefined }),
        (error: unknown) => ({ result: undefined, error }),
      ),
    ),
  )

const records = (count: number, prefix = 'r') =>
  Array.from({ length: count }, (_, i) => ({ partitionKey: `key-${i % 100}`, data: Buffer.from(`${prefix}-${i}`) }))

describe('KinesisProducer through a fault-injecting proxy', () => {
  it('loses nothing through throttled entries, 500s and reset connections; every retry is in attempts, after a backoff', async () => {
    const { streamName, producer, proxy } = await setUp({ throttleShare: 0.3, internalErrors: 2, resets: 2 })
    const input = records(3000)
    // Small aggregates, so a request carries many entries and some of them are throttled.
    const outcomes = await settle(input.map((r) => producer.addUserRecord(r)))
    await producer.close()
    expect(outcomes.every((o) => o.result?.successful === true)).toBe(true)
    expect(proxy.counts).toMatchObject({ internalErrors: 2, resets: 2 })
    expect(proxy.counts.throttledEntries).toBeGreaterThan(0)

    const retried = outcomes.map((o) => o.result!).filter((r) => r.attempts.length > 1)
    expect(retried.length).toBeGreaterThan(0)
    const codes = new Set(retried.flatMap((r) => r.attempts.filter((a) => !a.successful).map((a) => a.errorCode)))
    expect(codes).toContain('InternalFailure')
    for (const result of retried) {
      expect(result.attempts.at(-1)?.successful).toBe(true)
      // Each retry waited: buffering before the first try, backoff before the others.
      for (const attempt of result.attempts.slice(1)) expect(attempt.delayMs).toBeGreaterThanOrEqual(0)
    }
    expect(retried.some((r) => r.attempts.slice(1).some((a) => a.delayMs > 0))).toBe(true)

    const read = new Set(deaggregate(await readStream(kinesis, streamName)).map((u) => u.data.toString()))
    for (const record of input) expect(read.has(record.data.toString())).toBe(true)
  })

  it('retries a response slower than requestTimeout (a possible duplicate, as with the KPL) and loses nothing', async () => {
    const { streamName, producer } = await setUp({ slowResponses: 1, slowMs: 1500 }, { requestTimeout: 400 })
    const input = records(500, 'slow')
    const outcomes = await settle(input.map((r) => producer.addUserRecord(r)))
    await producer.close()
    expect(outcomes.every((o) => o.result?.successful === true)).toBe(true)
    const timedOut = outcomes.filter((o) => o.result!.attempts.some((a) => a.errorCode === 'RequestTimeout'))
    expect(timedOut.length).toBeGreaterThan(0)
    const read = deaggregate(await readStream(kinesis, streamName)).map((u) => u.data.toString())
    for (const record of input) expect(read).toContain(record.data.toString())
  })

  it('fails records with Expired once recordTtl passes under permanent throttling', async () => {
    const { producer } = await setUp({ throttleShare: 1 }, { recordTtl: 600 })
    const outcomes = await settle(records(50).map((r) => producer.addUserRecord(r)))
    await producer.close()
    for (const { error } of outcomes) {
      expect(error).toBeInstanceOf(UserRecordFailedError)
      const failed = error as UserRecordFailedError
      expect(failed.errorCode).toBe('Expired')
      expect(failed.result.attempts.length).toBeGreaterThan(1)
      expect(failed.result.attempts[0]?.errorCode).toBe('ProvisionedThroughputExceededException')
      expect(failed.record.partitionKey).toMatch(/^key-/)
    }
  })

  it('fails at once on a terminal error, with its code, after one attempt', async () => {
    const { producer } = await setUp({ terminal: { status: 400, type: 'ResourceNotFoundException' } })
    const outcomes = await settle(records(20).map((r) => producer.addUserRecord(r)))
    await producer.close()
    for (const { error } of outcomes) {
      expect(error).toBeInstanceOf(UserRecordFailedError)
      expect((error as UserRecordFailedError).errorCode).toBe('ResourceNotFoundException')
      expect((error as UserRecordFailedError).result.attempts).toHaveLength(1)
    }
  })

  it('failIfThrottled fails throttled records at once instead of retrying them', async () => {
    const { producer } = await setUp({ throttleShare: 1 }, { failIfThrottled: true })
    const outcomes = await settle(records(20).map((r) => producer.addUserRecord(r)))
    await producer.close()
    for (const { error } of outcomes) {
      expect((error as UserRecordFailedError).errorCode).toBe('ProvisionedThroughputExceededException')
      expect((error as UserRecordFailedError).result.attempts).toHaveLength(1)
    }
  })

  it('rejects bad input at once, naming the field, while other records succeed', async () => {
    const { producer } = await setUp({})
    const good = records(10).map((r) => producer.addUserRecord(r))
    const bad = [
      [{ partitionKey: '', data: 'x' }, 'partitionKey'],
      [{ partitionKey: 'k'.repeat(257), data: 'x' }, 'partitionKey'],
      [{ data: 'x' }, 'partitionKey'],
      [{ partitionKey: 'k', data: 'x', explicitHashKey: '-1' }, 'explicitHashKey'],
      [{ partitionKey: 'k', data: 'x', explicitHashKey: (1n << 128n).toString() }, 'explicitHashKey'],
      [{ partitionKey: 'k', data: Buffer.alloc(1024 * 1024) }, 'data'],
      [{ partitionKey: 'k', data: 42 }, 'data'],
    ] as const
    for (const [record, field] of bad) {
      await expect(producer.addUserRecord(record as never)).rejects.toMatchObject({
        code: 'ERR_INVALID_ARGUMENT',
        field,
      })
    }
    const results = await Promise.all(good)
    expect(results.every((r) => r.successful)).toBe(true)
    await producer.close()
    await expect(producer.addUserRecord({ partitionKey: 'k', data: 'late' })).rejects.toMatchObject({
      code: 'ERR_CLOSED',
    })
  })
})

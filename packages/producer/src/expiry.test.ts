import { decodeAggregated } from '@kinesis-ts/shared'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { UserRecordFailedError } from './errors.js'
import { KinesisProducer } from './kinesis-producer.js'
import { stubKinesis } from './test-helpers.js'

beforeEach(() => {
  vi.useFakeTimers({
    toFake: [
      'setTimeout',
      'clearTimeout',
      'setInterval',
      'clearInterval',
      'setImmediate',
      'clearImmediate',
      'performance',
    ],
  })
})
afterEach(() => {
  vi.useRealTimers()
})

describe('recordTtl', () => {
  it("counts from each user record's own arrival, also inside an aggregate retried with older records", async () => {
    // Every entry is throttled: records are retried until they expire.
    const stub = stubKinesis({ answer: () => ({ errorCode: 'ProvisionedThroughputExceededException' }) })
    const producer = new KinesisProducer({
      streamName: 's',
      kinesisClient: stub.client,
      recordTtl: 1_000,
      recordMaxBufferedTime: 10,
      retryBackoffBaseMillis: 40,
      retryBackoffMaxMillis: 40,
    })
    const start = performance.now()
    const settledAt = new Map<string, { at: number; code: string }>()
    const add = (data: string) =>
      producer.addUserRecord({ partitionKey: 'k', data }).catch((error: UserRecordFailedError) => {
        settledAt.set(data, { at: performance.now() - start, code: error.errorCode })
      })
    const old = add('old')
    await vi.advanceTimersByTimeAsync(700)
    const young = add('young')
    await vi.advanceTimersByTimeAsync(1_500)
    await Promise.all([old, young])

    // old: 1000 ms after its arrival (failed at the try whose backoff would have outlived it);
    // young: 1000 ms after its own, 700 ms later, though it was retried in one aggregate with old.
    const oldEnd = settledAt.get('old')!
    const youngEnd = settledAt.get('young')!
    expect(oldEnd.code).toBe('Expired')
    expect(youngEnd.code).toBe('Expired')
    expect(oldEnd.at).toBeGreaterThanOrEqual(1_000 - 40)
    expect(oldEnd.at).toBeLessThanOrEqual(1_000)
    expect(youngEnd.at).toBeGreaterThanOrEqual(1_700 - 40)
    expect(youngEnd.at).toBeLessThanOrEqual(1_700)
    const together = stub.puts.filter((put) =>
      put.entries.some(
        (e) =>
          decodeAggregated(e.data, e)
            .map((u) => Buffer.from(u.data).toString())
            .join() === 'old,young',
      ),
    )
    expect(together.length).toBeGreaterThan(0)
    // After old expired, young was tried alone.
    const alone = stub.puts.filter((put) => put.at - start > oldEnd.at)
    expect(alone.length).toBeGreaterThan(0)
    for (const put of alone) expect(put.entries.map((e) => e.data.toString())).toEqual(['young'])
    await producer.close()
  })
})

import { InMemoryMetrics } from '@kinesis-ts/shared'
import { describe, expect, it } from 'vitest'
import { Lanes } from './lanes.js'
import { ProducerMetrics } from './metrics.js'
import type { KinesisRecord } from './pending.js'
import { Retries } from './retry.js'
import { Settlement } from './settlement.js'
import { type TestUser, testTarget, testUser } from './test-helpers.js'

function setUp(recordTtl = 30_000) {
  const lanes = new Lanes(100)
  const metrics = new ProducerMetrics(new InMemoryMetrics())
  const settlement = new Settlement(metrics, recordTtl, () => {})
  const retries = new Retries(
    { recordTtl, failIfThrottled: false, retryBackoffBaseMillis: 100, retryBackoffMaxMillis: 5_000 },
    { metrics, settlement, lanes },
  )
  const lane = lanes.laneFor(testTarget, 'a', 0)
  return { lanes, lane, retries }
}

const entryOf = (users: TestUser[]): KinesisRecord => ({
  target: testTarget,
  predictedShardId: 'a',
  users,
  data: new Uint8Array(0),
  partitionKey: 'a',
  explicitHashKey: undefined,
  bytes: 0,
  oldestArrival: 0,
  tries: 0,
  lastEventAt: 0,
})

describe('Retries', () => {
  it('puts failed records back at the head of their lane, in order, before the records added after them', () => {
    const { lanes, lane, retries } = setUp()
    const failed = [testUser('k', 1, { tag: 'first' }), testUser('k', 1, { tag: 'second' })]
    const later = testUser('k', 1, { tag: 'third' })
    lanes.push(lane, later)
    expect(
      retries.failedTry(
        entryOf(failed),
        'ProvisionedThroughputExceededException',
        'x',
        { retriable: true, throttled: true },
        0,
        10,
      ),
    ).toBe(true)
    retries.backOff(lane, failed, 0, 10)
    expect([lane.queue.peek(0), lane.queue.peek(1), lane.queue.peek(2)]).toEqual([...failed, later])
    expect(failed[0]!.attempts).toEqual([
      {
        delayMs: 0,
        durationMs: 10,
        successful: false,
        errorCode: 'ProvisionedThroughputExceededException',
        errorMessage: 'x',
      },
    ])
  })

  it('backs the whole lane off once per response, growing with failures in a row, and starts over after a success', () => {
    const { lane, retries } = setUp()
    const ceilings: number[] = []
    for (let i = 0; i < 4; i++) {
      const before = lane.failures
      retries.backOff(lane, [testUser('k', 1)], 1_000 * i, 1_000 * i)
      expect(lane.failures).toBe(before + 1)
      expect(lane.lastFailureAt).toBe(1_000 * i)
      ceilings.push(100 * 2 ** i)
      expect(lane.notBefore - 1_000 * i).toBeLessThan(ceilings[i]!)
      expect(lane.notBefore).toBeGreaterThanOrEqual(1_000 * i)
    }
    retries.succeeded(lane, 3_000)
    expect(lane.failures).toBe(0)
  })

  it('grows the backoff once per failure episode: requests sent before the last failure neither grow nor reset it', () => {
    // Without preserveOrder a lane has several requests in flight; an overload fails many of them.
    const { lanes, lane, retries } = setUp()
    retries.backOff(lane, [testUser('k', 1)], 0, 100)
    const notBefore = lane.notBefore
    for (let i = 0; i < 5; i++) retries.backOff(lane, [testUser('k', 1)], 50, 101 + i)
    expect(lane.failures).toBe(1)
    expect(lane.notBefore).toBe(notBefore)
    expect(lane.lastFailureAt).toBe(100)
    // Their records still go back to the head, to be tried again.
    expect(lane.queue.size).toBe(6)
    retries.succeeded(lane, 60)
    expect(lane.failures).toBe(1)
    // A request sent after the backoff began that fails again is a new episode.
    lanes.takeAll(lane)
    retries.backOff(lane, [testUser('k', 1)], notBefore, notBefore + 20)
    expect(lane.failures).toBe(2)
    retries.succeeded(lane, notBefore + 30)
    expect(lane.failures).toBe(0)
  })

  it('fails with Expired, in order, the records whose recordTtl ends before the backoff would', () => {
    const { lane, retries } = setUp(1_000)
    // Expired by the time the lane fails (whatever the backoff draws): arrived recordTtl ago or earlier.
    const old = [testUser('k', 1, { arrivedAt: -10 }), testUser('k', 1, { arrivedAt: 0 })]
    const young = testUser('k', 1, { arrivedAt: 990 })
    retries.backOff(lane, [...old, young], 1_000, 1_000)
    expect(old.map((u) => (u.outcome?.error as { errorCode: string }).errorCode)).toEqual(['Expired', 'Expired'])
    expect(lane.queue.size).toBe(1)
    expect(lane.queue.peek()).toBe(young)
  })

  it('fails at once on a terminal error: nothing is put back', () => {
    const { lane, retries } = setUp()
    const users = [testUser('k', 1)]
    expect(
      retries.failedTry(entryOf(users), 'AccessDeniedException', 'no', { retriable: false, throttled: false }, 0, 5),
    ).toBe(false)
    expect((users[0]!.outcome?.error as { errorCode: string }).errorCode).toBe('AccessDeniedException')
    expect(lane.queue.size).toBe(0)
  })
})

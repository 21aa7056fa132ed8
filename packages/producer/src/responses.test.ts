import { AwsCallError, InMemoryMetrics, silentLogger } from '@kinesis-ts/shared'
import { describe, expect, it } from 'vitest'
import type { Batch } from './collector.js'
import { Lanes, type ShardLane } from './lanes.js'
import { ProducerMetrics } from './metrics.js'
import type { KinesisRecord } from './pending.js'
import { Reshard } from './reshard.js'
import { Responses } from './responses.js'
import { Retries } from './retry.js'
import { Settlement } from './settlement.js'
import { type TestUser, testTarget, testUser } from './test-helpers.js'

function setUp() {
  const lanes = new Lanes(100)
  const metrics = new ProducerMetrics(new InMemoryMetrics())
  const settlement = new Settlement(metrics, 30_000, () => {})
  const retries = new Retries(
    { recordTtl: 30_000, failIfThrottled: false, retryBackoffBaseMillis: 100, retryBackoffMaxMillis: 5_000 },
    { metrics, settlement, lanes },
  )
  const reshard = new Reshard({ metrics, lanes, settlement, route: () => {}, drain: () => {} })
  const responses = new Responses({ metrics, settlement, retries, reshard, logger: silentLogger })
  return { lanes, responses }
}

/** One entry of `lane` holding `users` (sent as they are when one, else as an aggregate). */
const entry = (lane: ShardLane, users: TestUser[]): KinesisRecord => ({
  target: testTarget,
  predictedShardId: lane.shardId,
  users,
  data: new Uint8Array(1),
  partitionKey: users.length === 1 ? users[0]!.partitionKey : 'a',
  explicitHashKey: undefined,
  bytes: 1,
  oldestArrival: 0,
  tries: 0,
  lastEventAt: 0,
})

function batchOf(...parts: [ShardLane, TestUser[]][]): Batch {
  for (const [lane] of new Map(parts)) lane.inFlight++
  return { records: parts.map(([lane, users]) => entry(lane, users)), lanes: parts.map(([lane]) => lane), bytes: 0 }
}

const ok = (shardId: string) => ({ shardId, sequenceNumber: '1' })
const throttled = { errorCode: 'ProvisionedThroughputExceededException', errorMessage: 'slow down' }

describe('Responses', () => {
  it('settles what was stored, and sends a throttled shard back to its head and into backoff, once per response', () => {
    const { lanes, responses } = setUp()
    const a = lanes.laneFor(testTarget, 'a', 0)
    const b = lanes.laneFor(testTarget, 'b', 0)
    const fromA = [testUser('k1', 1), testUser('k2', 1)]
    const fromB = [testUser('k3', 1)]
    const later = testUser('k1', 1)
    lanes.push(a, later)
    const batch = batchOf([a, fromA], [b, fromB])
    responses.handle(batch, { ok: true, entries: [throttled, ok('b')] }, 0, 10)
    expect([a.inFlight, b.inFlight]).toEqual([0, 0])
    expect([a.queue.peek(0), a.queue.peek(1), a.queue.peek(2)]).toEqual([...fromA, later])
    expect(a.failures).toBe(1)
    expect(a.limiter!.factor).toBe(0.5)
    expect(fromB[0]!.outcome?.result).toMatchObject({ successful: true, shardId: 'b' })
    expect(b.failures).toBe(0)
    expect(b.limiter!.factor).toBe(1)
  })

  it('in a run of records sent as they are, puts back only the failed ones, in order, with one backoff', () => {
    const { lanes, responses } = setUp()
    const a = lanes.laneFor(testTarget, 'a', 0)
    const [x, y, z, w] = ['x', 'y', 'z', 'w'].map((key) => testUser(key, 1)) as [TestUser, TestUser, TestUser, TestUser]
    const batch = batchOf([a, [x]], [a, [y]], [a, [z]], [a, [w]])
    expect(a.inFlight).toBe(1)
    responses.handle(batch, { ok: true, entries: [ok('a'), throttled, ok('a'), throttled] }, 0, 10)
    expect(a.inFlight).toBe(0)
    expect(a.failures).toBe(1)
    expect([a.queue.size, a.queue.peek(0), a.queue.peek(1)]).toEqual([2, y, w])
    expect([x.outcome?.result?.successful, z.outcome?.result?.successful]).toEqual([true, true])
  })

  it('on a whole failed request puts every shard back in order, each backing off, without touching the rate', () => {
    const { lanes, responses } = setUp()
    const a = lanes.laneFor(testTarget, 'a', 0)
    const b = lanes.laneFor(testTarget, 'b', 0)
    const fromA = [testUser('k1', 1), testUser('k2', 1)]
    const fromB = [testUser('k3', 1)]
    const error = new AwsCallError('PutRecords', 'InternalFailure', true, false, new Error('500'))
    responses.handle(batchOf([a, fromA], [b, fromB]), { ok: false, error }, 0, 10)
    expect([a.queue.peek(0), a.queue.peek(1), b.queue.peek(0)]).toEqual([...fromA, ...fromB])
    expect([a.failures, b.failures]).toEqual([1, 1])
    expect([a.limiter!.factor, b.limiter!.factor]).toEqual([1, 1])
    expect(fromA[0]!.attempts?.map((attempt) => attempt.errorCode)).toEqual(['InternalFailure'])
  })
})

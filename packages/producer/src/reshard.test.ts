import { type HashKeyParts, InMemoryMetrics, ShardMap } from '@kinesis-ts/shared'
import { describe, expect, it } from 'vitest'
import { Lanes } from './lanes.js'
import { ProducerMetrics } from './metrics.js'
import type { PendingUserRecord } from './pending.js'
import { Reshard } from './reshard.js'
import { Settlement } from './settlement.js'
import type { StreamTarget } from './stream-target.js'
import { testUser } from './test-helpers.js'

const MAX = (1n << 128n) - 1n
const HALF = MAX / 2n
const QUARTER = MAX / 4n

const range = (ShardId: string, start: bigint, end: bigint) => ({
  ShardId,
  HashKeyRange: { StartingHashKey: String(start), EndingHashKey: String(end) },
})

/** A stream whose map the test replaces, as StreamTarget would after ListShards; `at` makes its records. */
function streamOf(...shards: ReturnType<typeof range>[]) {
  let map = new ShardMap(shards)
  const target = {
    key: 'name:s',
    label: 's',
    attempted: true,
    get map() {
      return map
    },
    shardFor: (hashKey: HashKeyParts) => map.shardForParts(hashKey),
    requestRefresh: () => {},
  } as unknown as StreamTarget
  const remap = (...next: ReturnType<typeof range>[]) => {
    map = new ShardMap(next)
  }
  const at = (hashKey: bigint, tag: string) => testUser(tag, 1, { explicitHashKey: String(hashKey), tag, target })
  return { target, remap, at }
}

function setUp(target: StreamTarget) {
  const lanes = new Lanes(100)
  const metrics = new ProducerMetrics(new InMemoryMetrics())
  const settlement = new Settlement(metrics, 30_000, () => {})
  const routed: PendingUserRecord[] = []
  const reshard: Reshard = new Reshard({
    metrics,
    lanes,
    settlement,
    // What the router does: held while the stream must wait, else into its shard's lane.
    route: (user) => {
      if (reshard.mustWait(user.target)) return reshard.hold(user)
      routed.push(user)
      lanes.push(lanes.laneFor(target, target.shardFor(user.hashKey), 0), user)
    },
    drain: () => {},
  })
  const place = (user: PendingUserRecord) => {
    const lane = lanes.laneFor(target, target.shardFor(user.hashKey), 0)
    lanes.push(lane, user)
    metrics.shard('UserRecordsPut', 1, 'Count', 's', lane.shardId)
    return lane
  }
  return { lanes, metrics, reshard, routed, place }
}

describe('Reshard', () => {
  it('removes the lanes of closed shards, with their rate limiters and metric dimensions, and re-routes their records', () => {
    const { target, remap, at } = streamOf(range('A', 0n, HALF), range('B', HALF + 1n, MAX))
    const { lanes, metrics, reshard, routed, place } = setUp(target)
    const a = place(at(1n, 'a1'))
    place(at(HALF + 5n, 'b1'))
    expect(metrics.shardsTracked).toBe(2)
    remap(range('A1', 0n, QUARTER), range('A2', QUARTER + 1n, HALF), range('B', HALF + 1n, MAX))
    reshard.onShardMap(target, true, 0)
    expect(a.retired).toBe(true)
    expect([...lanes.of(target)].map((lane) => lane.shardId).sort()).toEqual(['A1', 'B'])
    expect(metrics.shardsTracked).toBe(1)
    expect(routed.map((u) => u.partitionKey)).toEqual(['a1'])
    expect(lanes.ready.has(a)).toBe(false)
  })

  it('holds the stream while a closed shard has a request in flight, then routes its failed records before everything newer', () => {
    const { target, remap, at } = streamOf(range('A', 0n, HALF), range('B', HALF + 1n, MAX))
    const { lanes, reshard, routed, place } = setUp(target)
    const a = place(at(1n, 'a2'))
    a.inFlight = 1
    remap(range('A1', 0n, QUARTER), range('A2', QUARTER + 1n, HALF), range('B', HALF + 1n, MAX))
    reshard.onShardMap(target, true, 0)
    // Nothing of the stream may be routed while A's request is out: it may fail and go again.
    expect(reshard.mustWait(target)).toBe(true)
    reshard.hold(at(2n, 'n1'))
    reshard.hold(at(HALF + 9n, 'n2'))
    expect(routed).toEqual([])
    // A's response: its record failed and went back to its lane's head (as Retries does).
    a.inFlight = 0
    lanes.unshift(a, [at(3n, 'a1')])
    reshard.afterResponse(a, 0)
    expect(reshard.mustWait(target)).toBe(false)
    expect(routed.map((u) => u.partitionKey)).toEqual(['a1', 'a2', 'n1', 'n2'])
    expect([...lanes.of(target)].map((lane) => lane.shardId).sort()).toEqual(['A1', 'B'])
  })

  it('after an aggregate landed elsewhere, holds its lane and the stream until a map comes, then re-sends only what is outside the shard it landed on', () => {
    const { target, remap, at } = streamOf(range('A', 0n, HALF), range('B', HALF + 1n, MAX))
    const { lanes, reshard, routed, place } = setUp(target)
    const inside = at(1n, 'inside')
    const outside = at(QUARTER + 7n, 'outside')
    const lane = place(at(5n, 'queued'))
    const record = {
      target,
      predictedShardId: 'A',
      users: [inside, outside],
      data: new Uint8Array(0),
      partitionKey: 'a',
      explicitHashKey: '1',
      bytes: 0,
      oldestArrival: 0,
      tries: 0,
      lastEventAt: 0,
    }
    reshard.landedElsewhere(record, lane, 'A1', '42', { delayMs: 0, durationMs: 1, successful: true })
    expect(reshard.mustWait(target)).toBe(true)
    expect(lane.queue.size).toBe(0)
    remap(range('A1', 0n, QUARTER), range('A2', QUARTER + 1n, HALF), range('B', HALF + 1n, MAX))
    reshard.onShardMap(target, true, 0)
    expect(inside.outcome?.result).toMatchObject({ successful: true, shardId: 'A1', sequenceNumber: '42' })
    expect(outside.attempts?.map((a) => a.errorCode)).toEqual(['WrongShard'])
    expect(routed.map((u) => u.partitionKey)).toEqual(['outside', 'queued'])
    expect([...lanes.of(target)].map((l) => l.shardId).sort()).toEqual(['A1', 'A2'])
  })
})

import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { sleep } from '@kinesis-ts/shared'
import { describe, expect, it } from 'vitest'
import type { ItemTable } from '../../packages/consumer/src/kcl3/contracts.js'
import { DynamoDbLeaderLock } from '../../packages/consumer/src/kcl3/leader-lock.js'
import { uniqueName } from '../support/aws.js'
import {
  acquireLeaderLockAsJava,
  createCoordinatorStateTableAsJava34,
  heartbeatLeaderLockAsJava,
  takeOverLeaderLockAsJava,
} from './support/java-writes.js'
import { leaderLockFixture } from './support/leader-lock-fixture.js'

const { dynamodb, leaseTable, proxied, rawLock, startedLock } = leaderLockFixture('kcl3-lock')

// Short durations so takeovers happen within seconds; the assertions leave generous slack for a busy machine.
const DURATION = 1_500
const HEARTBEAT = 300

function lock(table: ItemTable, workerId: string, client: DynamoDBClient = dynamodb, leaseDurationMillis = DURATION) {
  return startedLock({
    dynamodb: client,
    table,
    workerId,
    leaseDurationMillis,
    heartbeatPeriodMillis: HEARTBEAT,
    timeoutMs: 500,
  })
}

/** isLeader, with a failed call (a cut connection) counted as "not leader", as callers treat it. */
const leads = (candidate: DynamoDbLeaderLock) => candidate.isLeader(AbortSignal.timeout(5_000)).catch(() => false)

/** Polls both every 50 ms for `ms`; returns when each was leader, and fails if both ever were at once. */
async function watch(a: DynamoDbLeaderLock, b: DynamoDbLeaderLock, ms: number, untilBLeads = false) {
  const started = performance.now()
  const seen = { a: [] as number[], b: [] as number[] }
  while (performance.now() - started < ms && !(untilBLeads && seen.b.length > 0)) {
    const [la, lb] = await Promise.all([leads(a), leads(b)])
    expect(la && lb, 'two leaders at once').toBe(false)
    const at = performance.now() - started
    if (la) seen.a.push(at)
    if (lb) seen.b.push(at)
    await sleep(50)
  }
  return seen
}

describe('DynamoDbLeaderLock on dynalite (kcl3-protocol §6)', () => {
  it('one of two wins, writes the lock as the Java lock client does, and keeps it by heartbeat', async () => {
    const table = await leaseTable()
    const a = lock(table, 'worker-a')
    const b = lock(table, 'worker-b')
    const first = await Promise.all([leads(a), leads(b)])
    expect(first.filter(Boolean)).toHaveLength(1)
    const [leader, other] = first[0] ? [a, b] : [b, a]
    const item = await rawLock(table)
    expect(Object.keys(item!).sort()).toEqual([
      'entityType',
      'leaseDuration',
      'leaseKey',
      'ownerName',
      'recordVersionNumber',
    ])
    expect(item).toMatchObject({
      leaseKey: { S: 'Leader' },
      ownerName: { S: first[0] ? 'worker-a' : 'worker-b' },
      leaseDuration: { S: '1500' },
      entityType: { S: 'LEADER' },
    })
    expect(item!.recordVersionNumber!.S).toMatch(/^[0-9a-f-]{36}$/)

    // Three lease durations: the heartbeat keeps it, the other never gets in.
    const seen = await watch(leader, other, 3 * DURATION)
    expect(seen.b.length + seen.a.length).toBeGreaterThan(0)
    expect(leader === a ? seen.b : seen.a).toEqual([])
    expect(await leads(leader)).toBe(true)
    expect((await rawLock(table))!.recordVersionNumber!.S).not.toBe(item!.recordVersionNumber!.S)
  })

  it('a non-leader reads the lock at most once per heartbeat period', async () => {
    const table = await leaseTable()
    const leader = lock(table, 'worker-a')
    expect(await leads(leader)).toBe(true)
    const { proxy, client } = await proxied()
    const follower = lock(table, 'worker-b', client)
    const started = performance.now()
    while (performance.now() - started < 2_000) {
      expect(await leads(follower)).toBe(false)
      await sleep(10)
    }
    const reads = proxy.counts.GetItem?.calls ?? 0
    expect(reads).toBeGreaterThanOrEqual(2)
    expect(reads).toBeLessThanOrEqual(Math.ceil(2_000 / HEARTBEAT) + 1)
  })

  it('a leader that stops without releasing is taken over only after the stored lease duration', async () => {
    const table = await leaseTable()
    const { proxy, client } = await proxied()
    const a = lock(table, 'worker-a', client)
    const b = lock(table, 'worker-b')
    expect(await leads(a)).toBe(true)
    await sleep(2 * HEARTBEAT)
    // The crash: nothing of a reaches DynamoDB any more (heartbeats and the release on stop included).
    proxy.rules = [{ fault: { kind: 'hang' } }]
    // Never two leaders meanwhile: a gives up by its own clock before b may take over.
    const seen = await watch(a, b, 4 * DURATION + 5_000, true)
    expect(seen.b.length).toBeGreaterThan(0)
    const waited = seen.b[0]!
    // The last heartbeat landed at most one period (plus its call) before the cut.
    expect(waited).toBeGreaterThanOrEqual(DURATION - HEARTBEAT - 100)
    expect(waited).toBeLessThan(DURATION + 2 * HEARTBEAT + 3_000)
    expect(await leads(a)).toBe(false)
    expect((await rawLock(table))!.ownerName).toEqual({ S: 'worker-b' })
  })

  it('honours a lock written by the Java lock client, by its stored duration, and takes it over once dead', async () => {
    const table = await leaseTable()
    const javaDuration = 1_200
    let held = await acquireLeaderLockAsJava(dynamodb, table, 'java-worker', javaDuration)
    // Our own configured duration is far longer: the stored one must decide.
    const ts = lock(table, 'ts-worker', dynamodb, 20_000)
    const heartbeatUntil = performance.now() + 3 * javaDuration
    while (performance.now() < heartbeatUntil) {
      expect(await leads(ts)).toBe(false)
      held = await heartbeatLeaderLockAsJava(dynamodb, table, 'java-worker', held, javaDuration)
      await sleep(HEARTBEAT)
    }
    const diedAt = performance.now()
    let takenAt: number | undefined
    while (takenAt === undefined && performance.now() - diedAt < 10_000) {
      if (await leads(ts)) takenAt = performance.now()
      else await sleep(25)
    }
    expect(takenAt).toBeDefined()
    expect(takenAt! - diedAt).toBeGreaterThanOrEqual(javaDuration)
    expect(takenAt! - diedAt).toBeLessThan(javaDuration + 2 * HEARTBEAT + 3_000)
    expect(await rawLock(table)).toMatchObject({
      ownerName: { S: 'ts-worker' },
      leaseDuration: { S: '20000' },
      entityType: { S: 'LEADER' },
    })
    // The Java client's next heartbeat names the version it last wrote: it has lost the lock.
    await expect(heartbeatLeaderLockAsJava(dynamodb, table, 'java-worker', held, javaDuration)).rejects.toBeInstanceOf(
      ConditionalCheckFailedException,
    )
  })

  it('a Java worker takes over a dead TypeScript leader; the TypeScript worker, back, stays a follower', async () => {
    const table = await leaseTable()
    const { proxy, client } = await proxied()
    const ts = lock(table, 'ts-worker', client)
    expect(await leads(ts)).toBe(true)
    await sleep(HEARTBEAT + 100)
    proxy.rules = [{ fault: { kind: 'hang' } }]
    // The Java follower: reads, sees the same version for longer than the stored duration, takes over.
    const observed = (await rawLock(table))!
    const stored = Number(observed.leaseDuration!.S)
    expect(stored).toBe(DURATION)
    await sleep(stored + 100)
    const unchanged = (await rawLock(table))!
    expect(unchanged.recordVersionNumber).toEqual(observed.recordVersionNumber)
    // By then the TypeScript worker no longer counts itself leader (its own clock, no DynamoDB needed).
    expect(await leads(ts)).toBe(false)
    let held = await takeOverLeaderLockAsJava(dynamodb, table, 'java-worker', unchanged.recordVersionNumber!.S!, 60_000)
    proxy.rules = []
    const until = performance.now() + 3 * HEARTBEAT + 1_000
    while (performance.now() < until) {
      expect(await leads(ts)).toBe(false)
      held = await heartbeatLeaderLockAsJava(dynamodb, table, 'java-worker', held, 60_000)
      await sleep(50)
    }
    expect((await rawLock(table))?.ownerName).toEqual({ S: 'java-worker' })
  })

  it('aborting the start signal stops the heartbeat and releases the lock', async () => {
    const table = await leaseTable()
    const controller = new AbortController()
    const created = new DynamoDbLeaderLock({
      dynamodb,
      table,
      workerId: 'worker-a',
      leaseDurationMillis: DURATION,
      heartbeatPeriodMillis: HEARTBEAT,
      timeoutMs: 500,
    })
    created.start(controller.signal)
    expect(await leads(created)).toBe(true)
    controller.abort()
    await created.stop()
    expect(await rawLock(table)).toBeUndefined()
    expect(await leads(created)).toBe(false)
  })

  it('a heartbeat or an acquisition that landed but whose answer was lost keeps the lock ours', async () => {
    const table = await leaseTable()
    const { proxy, client } = await proxied()
    const a = lock(table, 'worker-a', client)
    const b = lock(table, 'worker-b')
    // The acquisition lands, its answer is a 500: the next check finds our own unanswered version.
    proxy.rules = [{ match: 'PutItem', times: 1, fault: { kind: 'commitThen500' } }]
    expect(await leads(a)).toBe(false)
    expect((await rawLock(table))?.ownerName).toEqual({ S: 'worker-a' })
    await sleep(HEARTBEAT + 50)
    expect(await leads(a)).toBe(true)
    // Two heartbeats in a row land unanswered: the next one fails its condition, and the read finds ours.
    proxy.rules = [{ match: 'UpdateItem', times: 2, fault: { kind: 'commitThen500' } }]
    const seen = await watch(a, b, 3 * DURATION)
    expect(proxy.injected('commitThen500', 'UpdateItem')).toBe(2)
    expect(seen.b).toEqual([])
    expect(seen.a.length).toBeGreaterThan(0)
    expect(await leads(a)).toBe(true)
  })

  it('in the legacy coordinator table (key `key`): release on stop lets the other take it at its next check', async () => {
    const applicationName = uniqueName('kcl3-lock-app')
    const legacy = await createCoordinatorStateTableAsJava34(dynamodb, applicationName)
    const table: ItemTable = { ...legacy, sharedWithLeases: false }
    const a = lock(table, 'worker-a')
    const b = lock(table, 'worker-b')
    expect(await leads(a)).toBe(true)
    expect(await leads(b)).toBe(false)
    expect((await rawLock(table))?.key).toEqual({ S: 'Leader' })
    await a.stop()
    expect(await rawLock(table)).toBeUndefined()
    expect(await leads(a)).toBe(false)
    await sleep(HEARTBEAT + 50)
    expect(await leads(b)).toBe(true)
  })

  it('releaseLeadershipIfHeld deletes only its own version', async () => {
    const table = await leaseTable()
    const a = lock(table, 'worker-a')
    expect(await leads(a)).toBe(true)
    await a.releaseLeadershipIfHeld(AbortSignal.timeout(5_000))
    expect(await rawLock(table)).toBeUndefined()
    // A Java worker takes it; a second release from us must not delete the Java lock.
    await acquireLeaderLockAsJava(dynamodb, table, 'java-worker', DURATION)
    await a.releaseLeadershipIfHeld(AbortSignal.timeout(5_000))
    expect((await rawLock(table))?.ownerName).toEqual({ S: 'java-worker' })
  })
})

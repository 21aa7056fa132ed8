import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { sleep } from '@kinesis-ts/shared'
import { describe, expect, it } from 'vitest'
import type { ItemTable } from '../../packages/consumer/src/kcl3/contracts.js'
import type { DynamoDbLeaderLock } from '../../packages/consumer/src/kcl3/leader-lock.js'
import { acquireLeaderLockAsJava, takeOverLeaderLockAsJava } from './support/java-writes.js'
import { leaderLockFixture } from './support/leader-lock-fixture.js'

/*
 * Issue 17: the fast lease a TypeScript leader promises (failoverTimeMillis) beside the Java lock.
 * The Java defaults (120 s lease, 30 s heartbeat) and the consumer's (10 s failover, 500 ms watch),
 * on a stepped clock: only the DynamoDB calls are real, so the waits are exact and the tests short.
 */

const { dynamodb, leaseTable, ownClient, proxied, rawLock, startedLock } = leaderLockFixture('kcl3-fast-lock')

const JAVA_LEASE = 120_000
const JAVA_HEARTBEAT = 30_000
const FAILOVER = 10_000
const WATCH = 500
const FAST_ATTRIBUTE = 'kinesisTsFastLeaseDurationMillis'

/** A monotonic clock the test steps by hand. */
function steppedClock() {
  let at = 1_000
  return {
    now: () => at,
    step: (ms: number) => {
      at += ms
    },
  }
}

interface LockOptions {
  readonly client?: DynamoDBClient
  readonly now?: () => number
  /** null: a worker that promises no fast lease (Java timing). */
  readonly fast?: number | null
}

function lock(table: ItemTable, workerId: string, { client = dynamodb, now, fast = FAILOVER }: LockOptions = {}) {
  return startedLock({
    dynamodb: client,
    table,
    workerId,
    leaseDurationMillis: JAVA_LEASE,
    heartbeatPeriodMillis: JAVA_HEARTBEAT,
    timeoutMs: 2_000,
    ...(now === undefined ? {} : { now }),
    ...(fast === null ? {} : { fastLeaseDurationMillis: fast, fastWatchIntervalMillis: WATCH }),
  })
}

const leads = (candidate: DynamoDbLeaderLock) => candidate.isLeader(AbortSignal.timeout(5_000))

describe('DynamoDbLeaderLock with a fast lease (issue 17)', () => {
  it('writes the fast lease beside an ordinary Java item; a follower takes over once the version stood still that long on its clock', async () => {
    const table = await leaseTable()
    const leaderClock = steppedClock()
    const leader = lock(table, 'ts-leader', { now: leaderClock.now })
    expect(await leads(leader)).toBe(true)
    const item = (await rawLock(table))!
    // What a Java worker reads: its own attributes, its 120 s duration; the extra one it ignores.
    expect(Object.keys(item).sort()).toEqual([
      'entityType',
      FAST_ATTRIBUTE,
      'leaseDuration',
      'leaseKey',
      'ownerName',
      'recordVersionNumber',
    ])
    expect(item).toMatchObject({
      ownerName: { S: 'ts-leader' },
      leaseDuration: { S: String(JAVA_LEASE) },
      entityType: { S: 'LEADER' },
      [FAST_ATTRIBUTE]: { N: String(FAILOVER) },
    })
    // The crash: no heartbeat, no release.
    await leader.abandon()

    const { proxy, client } = await proxied()
    const clock = steppedClock()
    const follower = lock(table, 'ts-follower', { client, now: clock.now })
    expect(await leads(follower)).toBe(false)
    expect(follower.followsFastLeader).toBe(true)
    // Within the watch interval nothing is read again; past it, every check reads.
    clock.step(WATCH - 1)
    expect(await leads(follower)).toBe(false)
    expect(proxy.counts.GetItem?.calls).toBe(1)
    // Exactly the fast lease since the version was first seen: still alive.
    clock.step(FAILOVER - WATCH + 1)
    expect(await leads(follower)).toBe(false)
    expect(proxy.counts.GetItem?.calls).toBe(2)
    clock.step(WATCH)
    expect(await leads(follower)).toBe(true)
    expect(follower.followsFastLeader).toBe(false)
    expect((await rawLock(table))?.ownerName).toEqual({ S: 'ts-follower' })
  })

  it('a follower that lost the race for a missing lock watches the winner at the fast cadence at once', async () => {
    const table = await leaseTable()
    const clock = steppedClock()
    const winner = lock(table, 'ts-winner', { now: clock.now })
    // The loser's PutItem is sent only after the winner acquired: its read saw no lock, its write fails.
    const racing = ownClient()
    let raced = false
    racing.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'PutItemCommand' && !raced) {
          raced = true
          expect(await leads(winner)).toBe(true)
        }
        return next(args)
      },
      { step: 'initialize', name: 'letTheWinnerWriteFirst' },
    )
    const loser = lock(table, 'ts-loser', { client: racing, now: clock.now })
    expect(await leads(loser)).toBe(false)
    expect(raced).toBe(true)
    expect((await rawLock(table))?.ownerName).toEqual({ S: 'ts-winner' })
    await winner.abandon()
    // Watched from the next check on: dead a fast lease after the loser first saw the winner's version.
    let waited = 0
    while (!(await leads(loser)) && waited < JAVA_HEARTBEAT) {
      clock.step(WATCH)
      waited += WATCH
    }
    expect(waited).toBeLessThanOrEqual(FAILOVER + 2 * WATCH)
    expect((await rawLock(table))?.ownerName).toEqual({ S: 'ts-loser' })
  })

  it('a leader counts itself leader no longer than its fast lease after its last confirmed write', async () => {
    const table = await leaseTable()
    const { proxy, client } = await proxied()
    const clock = steppedClock()
    const leader = lock(table, 'ts-leader', { client, now: clock.now })
    expect(await leads(leader)).toBe(true)
    // DynamoDB out of reach: nothing confirms the lock any more.
    proxy.rules = [{ fault: { kind: 'hang' } }]
    clock.step(FAILOVER - 1)
    expect(await leads(leader)).toBe(true)
    clock.step(1)
    // A follower may take over from here on: no longer leader, decided without any call.
    expect(await leader.isLeader(AbortSignal.timeout(5_000)).catch(() => 'failed')).toBe(false)
    proxy.rules = []
  })

  it('heartbeats every third of the fast lease, keeping the Java attributes', async () => {
    const table = await leaseTable()
    const { proxy, client } = await proxied()
    const fast = 1_500
    const leader = lock(table, 'ts-leader', { client, fast })
    expect(await leads(leader)).toBe(true)
    await sleep(2_300)
    // Every 500 ms: four in 2.3 s on an idle machine; the Java period (30 s) would give none.
    const heartbeats = proxy.counts.UpdateItem?.calls ?? 0
    expect(heartbeats).toBeGreaterThanOrEqual(2)
    expect(heartbeats).toBeLessThanOrEqual(5)
    expect(await rawLock(table)).toMatchObject({
      leaseDuration: { S: String(JAVA_LEASE) },
      [FAST_ATTRIBUTE]: { N: String(fast) },
    })
  })

  it('a lock a Java worker wrote keeps the Java rule: read once per heartbeat period, dead only after its stored leaseDuration', async () => {
    const table = await leaseTable()
    await acquireLeaderLockAsJava(dynamodb, table, 'java-leader', JAVA_LEASE)
    const { proxy, client } = await proxied()
    const clock = steppedClock()
    const follower = lock(table, 'ts-follower', { client, now: clock.now })
    expect(await leads(follower)).toBe(false)
    expect(follower.followsFastLeader).toBe(false)
    // Past our own fast lease: a Java lock promised no such thing.
    clock.step(FAILOVER + WATCH)
    expect(await leads(follower)).toBe(false)
    expect(proxy.counts.GetItem?.calls).toBe(1)
    clock.step(JAVA_HEARTBEAT)
    expect(await leads(follower)).toBe(false)
    expect(proxy.counts.GetItem?.calls).toBe(2)
    clock.step(JAVA_LEASE - JAVA_HEARTBEAT - FAILOVER - WATCH)
    expect(await leads(follower)).toBe(false)
    clock.step(JAVA_HEARTBEAT)
    expect(await leads(follower)).toBe(true)
    expect((await rawLock(table))?.ownerName).toEqual({ S: 'ts-follower' })
  })

  it('a Java takeover (a PutItem of the whole item) drops the fast lease, and TypeScript followers return to the Java rule', async () => {
    const table = await leaseTable()
    const leader = lock(table, 'ts-leader')
    expect(await leads(leader)).toBe(true)
    const clock = steppedClock()
    const follower = lock(table, 'ts-follower', { now: clock.now })
    expect(await leads(follower)).toBe(false)
    expect(follower.followsFastLeader).toBe(true)
    await leader.abandon()
    const dead = (await rawLock(table))!.recordVersionNumber!.S!
    await takeOverLeaderLockAsJava(dynamodb, table, 'java-leader', dead, JAVA_LEASE)
    const item = (await rawLock(table))!
    expect(item[FAST_ATTRIBUTE]).toBeUndefined()
    expect(item.ownerName).toEqual({ S: 'java-leader' })
    clock.step(WATCH)
    expect(await leads(follower)).toBe(false)
    expect(follower.followsFastLeader).toBe(false)
    // The Java leader heartbeats nothing here, but its lock lives for its stored 120 s all the same.
    for (let waited = 0; waited < JAVA_LEASE; waited += JAVA_HEARTBEAT) {
      clock.step(JAVA_HEARTBEAT)
      expect(await leads(follower)).toBe(false)
    }
    clock.step(JAVA_HEARTBEAT)
    expect(await leads(follower)).toBe(true)
  })

  it('a worker that promises no fast lease writes exactly the Java item and heartbeats on the Java period', async () => {
    const table = await leaseTable()
    const leader = lock(table, 'ts-leader', { fast: null })
    expect(await leads(leader)).toBe(true)
    expect((await rawLock(table))![FAST_ATTRIBUTE]).toBeUndefined()
  })
})

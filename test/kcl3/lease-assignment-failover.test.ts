import { afterAll, describe, expect, it } from 'vitest'
import type { LeaderDecider } from '../../packages/consumer/src/kcl3/contracts.js'
import type { LeaseStore } from '../../packages/consumer/src/leases/lease-store.js'
import { dynamoDBClient } from '../support/aws.js'
import { javaRenewLease, javaUpdateMetrics } from './support/java-writes-metrics.js'
import { assignmentManager, assignmentTable } from './support/lease-assignment-fixture.js'

/*
 * Issue 17: a follower of a fast (TypeScript) leader times the lease counters while it follows, so
 * on taking over from a crashed leader it assigns that leader's leases at once — and never those of
 * an old leader whose counters still move.
 */

const dynamodb = dynamoDBClient()
afterAll(() => dynamodb.destroy())

const FAILOVER = 3_000

/** The lock as the manager sees it: leading or not, and whether the leader followed is a fast one. */
class SteeredLeader implements LeaderDecider {
  leading = false
  followsFastLeader = true
  async isLeader() {
    return this.leading
  }
}

async function setup() {
  const keys = ['a', 'b', 'c', 'd'].map((k) => `shardId-00000000000${k}`)
  const on = await assignmentTable(dynamodb, 'kcl3-lam-failover', keys)
  const { tableName, table, leases } = on
  for (const [i, key] of keys.entries())
    await leases.assign((await leases.getLease(key))!, i < 2 ? 'live' : 'old-leader')
  const lutSeconds = Math.floor(Date.now() / 1000)
  for (const workerId of ['live', 'old-leader', 'new-leader']) {
    await javaUpdateMetrics(dynamodb, table, { workerId, lutSeconds, sts: { C: [10, 10] }, opr: { C: [100] } })
  }
  const leader = new SteeredLeader()
  const manager = assignmentManager(on, leader, FAILOVER, { varianceBalancingFrequency: 1_000 })
  const ownerOf = async () => new Map((await leases.listLeases()).map((l) => [l.leaseKey, l.leaseOwner]))
  return { tableName, leases, keys, leader, manager, ownerOf }
}

/** Renews, as Java's renewer does, every lease `owners` hold, every 150 ms until stopped. */
function renewing(tableName: string, leases: LeaseStore, owners: Set<string>, signal: AbortSignal) {
  return (async () => {
    while (!signal.aborted) {
      for (const lease of await leases.listLeases()) {
        if (lease.leaseOwner !== undefined && owners.has(lease.leaseOwner))
          await javaRenewLease(dynamodb, tableName, lease, 10)
      }
      await new Promise((resolve) => setTimeout(resolve, 150))
    }
  })()
}

/**
 * The old leader crashes: its leases and its lock stand still; the follower takes the lock once it
 * stood still for failoverTimeMillis, so the leases have stood still as long. Resolves with the time
 * from the takeover until none of the old leader's leases is left with it (within `timeoutMs`).
 */
async function crashLeaderThenTakeOver(
  f: Awaited<ReturnType<typeof setup>>,
  owners: Set<string>,
  timeoutMs: number,
): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 500))
  owners.delete('old-leader')
  await new Promise((resolve) => setTimeout(resolve, FAILOVER + 300))
  f.leader.leading = true
  const tookOverAt = performance.now()
  await expect
    .poll(async () => [...(await f.ownerOf()).values()].filter((o) => o === 'old-leader').length, {
      timeout: timeoutMs,
      interval: 20,
    })
    .toBe(0)
  return performance.now() - tookOverAt
}

describe('LeaseAssignmentManager following a fast leader', () => {
  it("a crashed leader's leases move as soon as the follower takes over, the live worker's stay", async () => {
    const f = await setup()
    const controller = new AbortController()
    const owners = new Set(['live', 'old-leader'])
    const renewers = renewing(f.tableName, f.leases, owners, controller.signal)
    const running = f.manager.run(controller.signal)
    try {
      const movedAfter = await crashLeaderThenTakeOver(f, owners, FAILOVER + 5_000)
      console.info(`crashed leader's leases assigned ${Math.round(movedAfter)} ms after the takeover`)
      // A fresh leader would wait failoverTimeMillis more; the follower's own observations spare that.
      expect(movedAfter).toBeLessThan(FAILOVER - 500)
      const after = await f.ownerOf()
      expect([f.keys[0], f.keys[1]].map((k) => after.get(k!))).toEqual(['live', 'live'])
    } finally {
      controller.abort()
      await Promise.all([running, renewers])
    }
  })

  it('an old leader that lost the lock but still renews keeps its leases', async () => {
    const f = await setup()
    const controller = new AbortController()
    const renewers = renewing(f.tableName, f.leases, new Set(['live', 'old-leader']), controller.signal)
    const running = f.manager.run(controller.signal)
    try {
      // Its lock heartbeats stopped landing (taken over after failoverTimeMillis), its renewals did not.
      await new Promise((resolve) => setTimeout(resolve, FAILOVER + 300))
      f.leader.leading = true
      await new Promise((resolve) => setTimeout(resolve, 2 * FAILOVER))
      expect([...(await f.ownerOf()).values()].sort()).toEqual(['live', 'live', 'old-leader', 'old-leader'])
    } finally {
      controller.abort()
      await Promise.all([running, renewers])
    }
  })

  it('without watching as a follower (a Java leader followed), the new leader times the leases from scratch', async () => {
    const f = await setup()
    f.leader.followsFastLeader = false
    const controller = new AbortController()
    const owners = new Set(['live', 'old-leader'])
    const renewers = renewing(f.tableName, f.leases, owners, controller.signal)
    const running = f.manager.run(controller.signal)
    try {
      expect(await crashLeaderThenTakeOver(f, owners, 2 * FAILOVER + 5_000)).toBeGreaterThanOrEqual(FAILOVER - 200)
    } finally {
      controller.abort()
      await Promise.all([running, renewers])
    }
  })
})

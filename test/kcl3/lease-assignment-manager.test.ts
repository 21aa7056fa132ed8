import { afterAll, describe, expect, it } from 'vitest'
import type { LeaderDecider } from '../../packages/consumer/src/kcl3/contracts.js'
import type { LeaseAssignmentManagerOptions } from '../../packages/consumer/src/kcl3/lease-assignment-manager.js'
import { LeaseStore } from '../../packages/consumer/src/leases/lease-store.js'
import type { Lease } from '../../packages/consumer/src/leases/lease.js'
import { dynamoDBClient, uniqueName } from '../support/aws.js'
import { javaRenewLease, javaUpdateMetrics } from './support/java-writes-metrics.js'
import { assignmentManager, assignmentTable } from './support/lease-assignment-fixture.js'

const dynamodb = dynamoDBClient()
afterAll(() => dynamodb.destroy())

const FAILOVER = 1_000
const nowSeconds = () => Math.floor(Date.now() / 1000)

class FakeLeader implements LeaderDecider {
  leading = true
  released = 0
  async isLeader() {
    return this.leading
  }
  async releaseLeadershipIfHeld() {
    this.released++
  }
}

async function fleet(shards: number) {
  const keys = Array.from({ length: shards }, (_, i) => `shardId-${String(i).padStart(12, '0')}`)
  const on = await assignmentTable(dynamodb, 'kcl3-lam', keys)
  const { tableName, table, leases, metrics } = on
  /** A worker's report as Java writes it, `ageSeconds` old. */
  const report = (workerId: string, cpu: number, ageSeconds = 0) =>
    javaUpdateMetrics(dynamodb, table, {
      workerId,
      lutSeconds: nowSeconds() - ageSeconds,
      sts: { C: [cpu, cpu] },
      opr: { C: [100] },
    })
  const leader = new FakeLeader()
  const manager = (options: Partial<LeaseAssignmentManagerOptions> = {}) =>
    assignmentManager(on, leader, FAILOVER, options)
  const owners = async () => {
    const out: Record<string, number> = {}
    for (const lease of await leases.listLeases()) {
      const owner = lease.leaseOwner ?? 'none'
      out[owner] = (out[owner] ?? 0) + 1
    }
    return out
  }
  return { tableName, leases, metrics, keys, report, leader, manager, owners }
}

/**
 * Live workers: each renews, as Java's renewer does, every lease it works (owned without a
 * handoff, or named as checkpointOwner), until `signal` aborts; `stop` makes one of them crash.
 */
function renewers(tableName: string, leases: LeaseStore, workerIds: string[], signal: AbortSignal) {
  const crashed = new Set<string>()
  const lastRenewal = new Map<string, number>()
  const works = (lease: Lease, id: string) =>
    lease.checkpointOwner === id || (lease.leaseOwner === id && lease.checkpointOwner === undefined)
  const loop = (async () => {
    while (!signal.aborted) {
      for (const lease of await leases.listLeases()) {
        const owner = workerIds.find((id) => works(lease, id) && !crashed.has(id))
        if (owner !== undefined && (await javaRenewLease(dynamodb, tableName, lease, 10))) {
          lastRenewal.set(owner, performance.now())
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 150))
    }
  })()
  return { crash: (id: string) => crashed.add(id), lastRenewal, done: loop }
}

/**
 * Runs `manager` beside live renewers of w1 and w2, crashes w2 and waits for all its leases to be
 * w1's; returns how long after w2's last renewal (one in flight at the crash may still land) that was.
 */
async function crashW2UntilMoved(
  f: Awaited<ReturnType<typeof fleet>>,
  manager: ReturnType<Awaited<ReturnType<typeof fleet>>['manager']>,
  controller: AbortController,
  total: number,
): Promise<number> {
  const live = renewers(f.tableName, f.leases, ['w1', 'w2'], controller.signal)
  const running = manager.run(controller.signal)
  try {
    await expect.poll(() => live.lastRenewal.has('w2'), { timeout: 5_000 }).toBe(true)
    live.crash('w2')
    await expect.poll(f.owners, { timeout: FAILOVER + 5_000, interval: 20 }).toEqual({ w1: total })
    const resumedAfter = performance.now() - live.lastRenewal.get('w2')!
    // Expiry needs failoverTimeMillis without a counter change as the leader sees it.
    expect(resumedAfter).toBeGreaterThanOrEqual(FAILOVER - 50)
    return resumedAfter
  } finally {
    controller.abort()
    await Promise.all([running, live.done])
  }
}

describe('LeaseAssignmentManager on dynalite (kcl3-protocol §7)', () => {
  it('as leader only, assigns unassigned leases to workers with fresh metrics, never to a stale one', async () => {
    const f = await fleet(6)
    await f.report('w1', 10)
    await f.report('w2', 10)
    await f.report('stale', 0, 120) // older than 2 × workerMetricsReporterFreqInMillis
    await f.report('gone', 0, 2 * 86_400) // older than staleWorkerMetricsEntryCleanupDuration
    const manager = f.manager()
    f.leader.leading = false
    await manager.runOnce(AbortSignal.timeout(10_000))
    expect(await f.owners()).toEqual({ none: 6 })
    f.leader.leading = true
    await manager.runOnce(AbortSignal.timeout(10_000))
    expect(await f.owners()).toEqual({ w1: 3, w2: 3 })
    // The leader deleted the day-old item and kept the merely stale one.
    const left = await f.metrics.list(AbortSignal.timeout(5_000))
    expect(left.map((m) => m.workerId).sort()).toEqual(['stale', 'w1', 'w2'])
  })

  it("reassigns a crashed worker's leases within about one watch interval of their expiry, though its metrics still look fresh", async () => {
    const f = await fleet(4)
    await f.report('w1', 10)
    await f.report('w2', 10)
    const controller = new AbortController()
    const manager = f.manager({ leaseAssignmentIntervalMillis: 60_000 })
    await manager.runOnce(controller.signal)
    expect(await f.owners()).toEqual({ w1: 2, w2: 2 })
    const resumedAfter = await crashW2UntilMoved(f, manager, controller, 4)
    console.info(
      `crashed worker's leases reassigned ${Math.round(resumedAfter)} ms after its last renewal (failover ${FAILOVER} ms)`,
    )
  })

  it("moves a crashed worker's leases within the watch although the last full run saw no worker's metrics yet", async () => {
    const f = await fleet(4)
    const [a, b, c, d] = await f.leases.listLeases()
    for (const [lease, owner] of [
      [a, 'w1'],
      [b, 'w1'],
      [c, 'w2'],
      [d, 'w2'],
    ] as const)
      await f.leases.assign(lease!, owner)
    const controller = new AbortController()
    // A leader that started before its fleet's first reports: its full run read no metrics.
    const manager = f.manager({ leaseAssignmentIntervalMillis: 60_000 })
    await manager.runOnce(controller.signal)
    await f.report('w1', 10)
    await f.report('w2', 10)
    // Before the fix they waited for the next full run, 60 s away (the poll gives up after failover + 5 s).
    const resumedAfter = await crashW2UntilMoved(f, manager, controller, 4)
    console.info(`reassigned ${Math.round(resumedAfter)} ms after the crashed worker's last renewal`)
  })

  it('assigns an unassigned lease within the watch although the last full run saw no worker metrics yet', async () => {
    const f = await fleet(2)
    const controller = new AbortController()
    // A leader that started before its fleet's first reports: its full run read no metrics and assigned nothing.
    const manager = f.manager({ leaseAssignmentIntervalMillis: 60_000 })
    await manager.runOnce(controller.signal)
    expect(await f.owners()).toEqual({ none: 2 })
    await f.report('w1', 10)
    const running = manager.run(controller.signal)
    try {
      // Before the fix they waited for the next full run, 60 s away.
      await expect.poll(f.owners, { timeout: 10_000, interval: 20 }).toEqual({ w1: 2 })
    } finally {
      controller.abort()
      await running
    }
  })

  it('full runs never give leases to a worker whose leases all expired, though its metrics are the freshest and lowest', async () => {
    const f = await fleet(6)
    await f.report('w1', 50)
    await f.report('w2', 5)
    await f.report('w3', 50)
    const controller = new AbortController()
    // Full runs only, each balancing: Java's own cadence, shortened.
    const manager = f.manager({
      leaseAssignmentIntervalMillis: 100,
      leaseExpiryWatchIntervalMillis: 0,
      varianceBalancingFrequency: 1,
      // Balancing moves by plain assign: no handoff left waiting on an old owner that never finishes it.
      isGracefulLeaseHandoffEnabled: false,
    })
    const live = renewers(f.tableName, f.leases, ['w1', 'w2', 'w3'], controller.signal)
    const running = manager.run(controller.signal)
    try {
      await expect.poll(async () => (await f.owners()).w2 ?? 0, { timeout: 5_000, interval: 20 }).toBeGreaterThan(0)
      await expect.poll(() => live.lastRenewal.has('w2'), { timeout: 5_000 }).toBe(true)
      live.crash('w2')
      // Before the fix step 1 handed w2's expired leases back to w2, the emptiest worker, run after run.
      await expect.poll(async () => (await f.owners()).w2 ?? 0, { timeout: FAILOVER + 5_000, interval: 20 }).toBe(0)
      expect(await f.owners()).not.toHaveProperty('none')
      // Many balancing runs later w2 (5 % CPU against 50 %) still gets nothing.
      const until = performance.now() + 3 * FAILOVER
      while (performance.now() < until) {
        expect((await f.owners()).w2).toBeUndefined()
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    } finally {
      controller.abort()
      await Promise.all([running, live.done])
    }
  })

  it('splits a cold table evenly among equal idle workers whose start-up CPU differs', async () => {
    const f = await fleet(12)
    // Each first report carries its process's start-up CPU, which no lease caused.
    await f.report('w1', 12)
    await f.report('w2', 30)
    await f.report('w3', 55)
    await f.manager().runOnce(AbortSignal.timeout(10_000))
    // Before the fix the capacity order gave 6-4-2.
    expect(await f.owners()).toEqual({ w1: 4, w2: 4, w3: 4 })
  })

  it('moves a live lease by graceful handoff when balancing, and assigns it once the handoff timed out', async () => {
    const f = await fleet(4)
    await f.report('busy', 90)
    await f.report('idle', 10)
    const controller = new AbortController()
    const setup = f.manager({ varianceBalancingFrequency: 1000 })
    await setup.runOnce(controller.signal) // step 1 only: the unassigned leases
    // Put all four on the busy worker, as a previous leader might have left them.
    for (const lease of await f.leases.listLeases()) {
      if (lease.leaseOwner !== 'busy') await f.leases.assign(lease, 'busy')
    }
    const live = renewers(f.tableName, f.leases, ['busy', 'idle'], controller.signal)
    const handoffTimeout = 500
    const manager = f.manager({
      leaseAssignmentIntervalMillis: 200,
      leaseExpiryWatchIntervalMillis: 0,
      varianceBalancingFrequency: 1,
      gracefulLeaseHandoffTimeoutMillis: handoffTimeout,
      // No shuffle: the same donor lease is picked run after run, so the fallback is observable.
      random: () => 0.999,
    })
    const running = manager.run(controller.signal)
    try {
      const inHandoff = async () => (await f.leases.listLeases()).filter((l) => l.checkpointOwner !== undefined)
      await expect.poll(async () => (await inHandoff()).length, { timeout: 5_000, interval: 20 }).toBe(1)
      const initiatedAt = performance.now()
      const [handoff] = await inHandoff()
      expect(handoff).toMatchObject({ leaseOwner: 'idle', checkpointOwner: 'busy' })
      // The old owner keeps renewing and never finishes: the leader waits, then assigns.
      await expect
        .poll(async () => (await f.leases.getLease(handoff!.leaseKey))?.checkpointOwner, {
          timeout: handoffTimeout + FAILOVER + 5_000,
          interval: 20,
        })
        .toBeUndefined()
      const waited = performance.now() - initiatedAt
      // initiatedAt is when the poll saw the handoff, a little after the leader wrote it.
      expect(waited).toBeGreaterThanOrEqual(handoffTimeout + FAILOVER - 400)
      console.info(
        `handoff assigned ${Math.round(waited)} ms after it was seen (timeout + failover = ${handoffTimeout + FAILOVER} ms)`,
      )
      expect(await f.leases.getLease(handoff!.leaseKey)).toMatchObject({ leaseOwner: 'idle' })
    } finally {
      controller.abort()
      await Promise.all([running, live.done])
    }
  })

  it('refuses thresholds outside the Java limits, naming the option', async () => {
    const f = await fleet(0)
    expect(() => f.manager({ dampeningPercentage: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_CONFIG', option: 'dampeningPercentage' }),
    )
    expect(() => f.manager({ workerMetricsEMAAlpha: 1.5 })).toThrow(
      expect.objectContaining({ option: 'workerMetricsEMAAlpha' }),
    )
  })

  it('gives up leadership after 3 failed runs in a row', async () => {
    const f = await fleet(1)
    const manager = f.manager({ leaseStore: new LeaseStore(dynamodb, uniqueName('missing-table'), 2_000) })
    const signal = AbortSignal.timeout(10_000)
    for (let i = 0; i < 2; i++) await expect(manager.runOnce(signal)).rejects.toThrow()
    expect(f.leader.released).toBe(0)
    await expect(manager.runOnce(signal)).rejects.toThrow()
    expect(f.leader.released).toBe(1)
  })
})

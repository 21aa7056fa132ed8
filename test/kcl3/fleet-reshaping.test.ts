import { sleep } from '@kinesis-ts/shared'
import { afterAll, describe, expect, it } from 'vitest'
import type { KinesisConsumer, KinesisConsumerOptions } from '../../packages/consumer/src/index.js'
import { KCL3_MODE_SEAMS } from '../../packages/consumer/src/kcl3/kcl3-mode-seams.js'
import type { WorkerMetric } from '../../packages/consumer/src/kcl3/worker-metrics-reporter.js'
import { Fleet, expectPerKeyOrder, waitFor } from '../consumer/support/harness.js'
import { expectChildrenAfterParents, produceRounds, splitThenMerge } from '../consumer/support/resharding.js'
import { createStream, kinesisClient, listAllShards, uniqueName } from '../support/aws.js'
import { KCL3_FAST } from './support/kcl3-fast.js'

const kinesis = kinesisClient()
afterAll(() => kinesis.destroy())

const KEYS = 60

/**
 * A CPU metric as the worker's processor load would drive it: `perLease` percent for every lease it
 * holds, capped at 100. Injected through the seams because the real process CPU metric is shared by
 * every worker of a test (one process) and swings with the other programs of a loaded 2-core machine.
 */
function cpuPerLease(worker: () => KinesisConsumer | undefined, perLease: number): WorkerMetric {
  return {
    shortName: 'C',
    maxUtilization: 100,
    capture: () => Math.min(100, perLease * (worker()?.leases.length ?? 0)),
  }
}

function withCpu(perLease: number) {
  let worker: KinesisConsumer | undefined
  return {
    options: {
      [KCL3_MODE_SEAMS]: { workerMetrics: [cpuPerLease(() => worker, perLease)] },
    } as Partial<KinesisConsumerOptions>,
    bind: (w: KinesisConsumer) => {
      worker = w
      return w
    },
  }
}

const seq = (s: string) => BigInt(s)

/**
 * After each graceful handoff (the old owner's shutdownRequested, where it checkpoints), the next
 * owner starts from that checkpoint and never gets a record at or below it; and no record of a shard
 * is delivered twice at all, since every batch is checkpointed and every move was graceful.
 */
function expectNoRedeliveryAfterHandoffs(fleet: Fleet): number {
  const bySeq = new Map<string, number>()
  for (const d of fleet.journal.deliveries) {
    const key = `${d.shardId}/${d.sequenceNumber}/${d.subSequenceNumber}`
    bySeq.set(key, (bySeq.get(key) ?? 0) + 1)
  }
  expect([...bySeq].filter(([, n]) => n > 1).map(([k]) => k)).toEqual([])
  const handoffs = fleet.journal.callsOf('shutdownRequested')
  for (const handoff of handoffs) {
    const before = fleet.journal.deliveries.filter(
      (d) => d.shardId === handoff.shardId && d.workerId === handoff.workerId,
    )
    const next = fleet.journal
      .callsOf('initialize')
      .find((c) => c.shardId === handoff.shardId && c.workerId !== handoff.workerId && c.at >= handoff.at)
    if (next === undefined || before.length === 0) continue
    const checkpoint = (next.detail as { sequenceNumber: string }).sequenceNumber
    const last = before.reduce((max, d) => (seq(d.sequenceNumber) > max ? seq(d.sequenceNumber) : max), 0n)
    // The checkpoint the next owner starts from covers everything the old owner processed.
    expect(seq(checkpoint), `${handoff.shardId} checkpoint after ${handoff.workerId}`).toBeGreaterThanOrEqual(last)
    const after = fleet.journal.deliveries.filter((d) => d.shardId === handoff.shardId && d.workerId === next.workerId)
    for (const d of after) expect(seq(d.sequenceNumber), `${d.shardId} redelivered`).toBeGreaterThan(seq(checkpoint))
  }
  return handoffs.length
}

describe('TypeScript fleets in KCL 3.x mode: load and resharding', () => {
  it('a busy worker (its CPU metric high per lease) sheds leases to idle ones through graceful handoffs, without loss or redelivery', async () => {
    const stream = await createStream(kinesis, 6)
    const shardIds = (await listAllShards(kinesis, stream)).map((s) => s.ShardId!)
    const table = uniqueName('kcl3-busy')
    const fleet = new Fleet(stream, table, { ...KCL3_FAST, varianceBalancingFrequency: 1 })
    const producer = produceRounds(kinesis, stream, KEYS, 100)
    try {
      // The busy worker leads and is given every shard first: 6 leases × 15 % = 90 % CPU.
      const busyCpu = withCpu(15)
      const busy = busyCpu.bind(await fleet.start('busy', busyCpu.options))
      await waitFor('busy holds every shard', () => busy.leases.length === shardIds.length, 30_000)
      const idle: KinesisConsumer[] = []
      for (const id of ['idle1', 'idle2']) {
        const cpu = withCpu(2)
        idle.push(cpu.bind(await fleet.start(id, cpu.options)))
      }
      const startedAt = Date.now()
      await waitFor(
        'the busy worker shed leases to both idle ones',
        () => busy.leases.length < 2 && idle.every((w) => w.leases.length > busy.leases.length),
        90_000,
      )
      const shedMs = Date.now() - startedAt
      await sleep(2 * KCL3_FAST.leaseAssignmentIntervalMillis!)
      const rounds = await producer.stop()
      await waitFor('every record', () => fleet.journal.distinctData().size === rounds * KEYS, 60_000)
      await waitFor(
        'every shard held once',
        () => new Set([busy, ...idle].flatMap((w) => w.leases)).size === shardIds.length,
        30_000,
      )
      expectPerKeyOrder(fleet.journal.byKey(), rounds)
      const handoffs = expectNoRedeliveryAfterHandoffs(fleet)
      // Every lease the busy worker gave up it handed over gracefully (shutdownRequested, then the checkpoint).
      expect(
        fleet.journal.callsOf('shutdownRequested').filter((c) => c.workerId === 'busy').length,
      ).toBeGreaterThanOrEqual(shardIds.length - busy.leases.length)
      expect(fleet.journal.callsOf('leaseLost')).toEqual([])
      console.log(
        `kcl3 busy: leases ${[busy, ...idle].map((w) => `${w.workerId}=${w.leases.length}`).join(' ')} after ${shedMs} ms; ${handoffs} graceful handoffs`,
      )
    } finally {
      await producer.stop()
      await fleet.close()
    }
  })

  it('split and merge during consumption: children start after their parents end, nothing lost, per-key order kept', async () => {
    const stream = await createStream(kinesis, 3)
    const [first, second, third] = await listAllShards(kinesis, stream)
    // One merge parent is processed slowly, so the other reaches SHARD_END (and its child lease exists)
    // well before it: a child started before both parents ended would show here.
    const slow = async (_: unknown, shardId: string) => {
      if (shardId === second!.ShardId) await sleep(300)
    }
    const fleet = new Fleet(stream, uniqueName('kcl3-reshard'), KCL3_FAST, { onRecords: slow })
    const producer = produceRounds(kinesis, stream, KEYS, 50)
    try {
      await fleet.start('a')
      await fleet.start('b')
      await waitFor('first records', () => fleet.journal.deliveries.length > 3 * KEYS)

      await splitThenMerge(kinesis, stream, first!, second!, third!)
      await sleep(1_000)
      const rounds = await producer.stop()

      await waitFor('every record', () => fleet.journal.distinctData().size === rounds * KEYS, 90_000)
      expectPerKeyOrder(fleet.journal.byKey(), rounds)

      const children = (await listAllShards(kinesis, stream)).filter((s) => s.ParentShardId !== undefined)
      expect(children).toHaveLength(3)
      expectChildrenAfterParents(fleet.journal, children)
      const leases = await fleet.leases()
      const merged = children.find((c) => c.AdjacentParentShardId !== undefined)!
      expect([...leases.get(merged.ShardId!)!.parentShardIds].sort()).toEqual([second!.ShardId, third!.ShardId].sort())
    } finally {
      await producer.stop()
      await fleet.close()
    }
  })
})

import { GetItemCommand } from '@aws-sdk/client-dynamodb'
import { PutRecordsCommand, type Shard } from '@aws-sdk/client-kinesis'
import { sleep } from '@kinesis-ts/shared'
import { afterAll, describe, expect, it } from 'vitest'
import type { KinesisConsumerOptions } from '../../packages/consumer/src/index.js'
import type { WorkerMetricStatsReader } from '../../packages/consumer/src/kcl3/contracts.js'
import { WorkerMetricStatsStore } from '../../packages/consumer/src/kcl3/worker-metric-stats-store.js'
import { KCL3_WORKER_MODE } from '../../packages/consumer/src/kcl3/worker-mode.js'
import { FAST, Fleet, waitFor } from '../consumer/support/harness.js'
import { createStream, dynamoDBClient, kinesisClient, listAllShards, uniqueName } from '../support/aws.js'
import { javaUpdateMetrics } from './support/java-writes-metrics.js'
import {
  javaAssign,
  javaCheckpoint,
  javaCreate2xLeaseTable,
  javaInitiateHandoff,
  javaWorkerRenewing,
} from './support/java-writes-worker.js'

const kinesis = kinesisClient()
const dynamodb = dynamoDBClient()
afterAll(() => {
  kinesis.destroy()
  dynamodb.destroy()
})

/** The internal switch: this worker speaks the KCL 3.x worker protocol. */
const kcl3 = (workerMetrics?: WorkerMetricStatsReader) =>
  ({ [KCL3_WORKER_MODE]: { workerMetrics } }) as Partial<KinesisConsumerOptions>

/** The consumer's own WorkerMetricStats reader, on the single-table layout (items in the lease table). */
const leaseTableMetrics = (table: string) => {
  const leaseTable = { tableName: table, keyAttribute: 'leaseKey', sharedWithLeases: true }
  return new WorkerMetricStatsStore({
    client: dynamodb,
    writeTable: leaseTable,
    readTables: [leaseTable],
    timeoutMs: 5_000,
  })
}

/** A Java 3.5 worker on EC2 reporting 10 % CPU (range 100), `lutSeconds` ago by default now. */
const javaReports = (table: string, workerId: string, lutSeconds = Math.floor(Date.now() / 1_000)) =>
  javaUpdateMetrics(
    dynamodb,
    { tableName: table, keyAttribute: 'leaseKey' },
    { workerId, lutSeconds, sts: { C: [10] }, opr: { C: [100] } },
  )

/** Puts `count` records into one shard (by its starting hash key) and returns their sequence numbers. */
async function putInto(stream: string, shard: Shard, count: number, prefix: string): Promise<string[]> {
  const out = await kinesis.send(
    new PutRecordsCommand({
      StreamName: stream,
      Records: Array.from({ length: count }, (_, i) => ({
        PartitionKey: `${prefix}-${i}`,
        ExplicitHashKey: shard.HashKeyRange!.StartingHashKey!,
        Data: Buffer.from(`${prefix}-${i}`),
      })),
    }),
  )
  expect(out.FailedRecordCount).toBe(0)
  return out.Records!.map((r) => r.SequenceNumber!)
}

async function rawLease(table: string, leaseKey: string) {
  const { Item } = await dynamodb.send(
    new GetItemCommand({ TableName: table, Key: { leaseKey: { S: leaseKey } }, ConsistentRead: true }),
  )
  return Item
}

/** Holds for `ms`, checking all along (never just at the end). */
async function holdsFor(ms: number, check: () => void | Promise<void>) {
  const until = Date.now() + ms
  while (Date.now() < until) {
    await check()
    await sleep(50)
  }
}

const sorted = (keys: string[]) => [...keys].sort()

/** A new stream of one shard: the handoff tests move that one lease. */
async function oneShardStream() {
  const stream = await createStream(kinesis, 1)
  const [shard] = await listAllShards(kinesis, stream)
  return { stream, shard: shard!, id: shard!.ShardId! }
}

describe('a KCL 3.x worker beside a Java KCL 3.x fleet', () => {
  it('takes nothing on its own; leases a Java leader assigns are discovered and consumed, throughputKBps written with renewals', async () => {
    const stream = await createStream(kinesis, 4)
    const shards = await listAllShards(kinesis, stream)
    const ids = shards.map((s) => s.ShardId!)
    const table = uniqueName('kcl3-assign')
    const fleet = new Fleet(stream, table)
    try {
      const worker = await fleet.start('ts-worker', kcl3())
      for (const shard of shards) await putInto(stream, shard, 10, shard.ShardId!)
      // Unowned leases (created by the start-up shard sync) are the leader's to assign, not ours to take.
      await holdsFor(3 * FAST.failoverTimeMillis, () => expect(worker.leases).toEqual([]))
      const assignedAt = Date.now()
      expect(await javaAssign(dynamodb, table, ids[0]!, 'ts-worker')).toBe(true)
      expect(await javaAssign(dynamodb, table, ids[1]!, 'ts-worker')).toBe(true)
      await waitFor('the assigned leases held', () => worker.leases.length === 2, 10_000)
      const discoveryMs = Date.now() - assignedAt
      expect(sorted(worker.leases)).toEqual(sorted([ids[0]!, ids[1]!]))
      // The failover target leaves 2 s for a handoff; discovery is one part of it (slack for a busy machine).
      expect(discoveryMs).toBeLessThan(2_000)
      await waitFor('their records', () => fleet.journal.deliveries.length === 20)
      expect(new Set(fleet.journal.deliveries.map((d) => d.shardId))).toEqual(new Set([ids[0], ids[1]]))
      // Throughput is measured per renewal interval and written with the renewal, at most 6 decimals as Java.
      await waitFor(
        'throughputKBps written',
        async () => (await rawLease(table, ids[0]!))?.throughputKBps !== undefined,
      )
      expect((await rawLease(table, ids[0]!))?.throughputKBps?.N).toMatch(/^\d+(\.\d{1,6})?$/)
      expect((await fleet.leases()).get(ids[2]!)?.leaseOwner).toBeUndefined()
      console.log(`kcl3 worker: assigned lease discovered after ${discoveryMs} ms`)
    } finally {
      await fleet.close()
    }
  })

  it('a Java-initiated graceful handoff to a Java worker: shutdownRequested checkpoints, then the worker assigns the lease over', async () => {
    const { stream, shard, id } = await oneShardStream()
    const table = uniqueName('kcl3-handoff-out')
    const fleet = new Fleet(stream, table)
    try {
      const worker = await fleet.start('ts-worker', kcl3())
      await javaAssign(dynamodb, table, id, 'ts-worker')
      const sequences = await putInto(stream, shard!, 15, 'a')
      await waitFor('the records', () => fleet.journal.deliveries.length === 15)
      const startedAt = Date.now()
      expect(await javaInitiateHandoff(dynamodb, table, id, 'java-new')).toBe(true)
      await waitFor(
        'the lease assigned to java-new',
        async () => {
          const lease = (await fleet.leases()).get(id)
          return lease?.leaseOwner === 'java-new' && lease.checkpointOwner === undefined
        },
        10_000,
      )
      const handoffMs = Date.now() - startedAt
      const lease = (await fleet.leases()).get(id)!
      // End state of §4.3: the old owner's final checkpoint (written in shutdownRequested) stands.
      expect(lease.checkpoint.sequenceNumber).toBe(sequences.at(-1))
      expect(fleet.journal.callsOf('shutdownRequested').map((c) => c.shardId)).toEqual([id])
      expect(fleet.journal.callsOf('leaseLost')).toEqual([])
      expect(worker.leases).toEqual([])
      // Nor taken back: the Java worker is the owner now, whether it renews or not.
      await holdsFor(2 * FAST.failoverTimeMillis, () => expect(worker.leases).toEqual([]))
      expect((await fleet.leases()).get(id)?.leaseOwner).toBe('java-new')
      expect(handoffMs).toBeLessThan(5_000)
      console.log(`kcl3 worker: handoff out (initiate → assign) took ${handoffMs} ms`)
    } finally {
      await fleet.close()
    }
  })

  it('a handoff whose shard does not finish is assigned over anyway after gracefulLeaseHandoffTimeoutMillis, keeping the last checkpoint', async () => {
    const { stream, shard, id } = await oneShardStream()
    const table = uniqueName('kcl3-handoff-timeout')
    let unblock = () => {}
    const blocked = new Promise<void>((resolve) => {
      unblock = resolve
    })
    const fleet = new Fleet(
      stream,
      table,
      {},
      {
        // The second put's batch never returns until the test lets it: no final checkpoint can happen.
        onRecords: async (input) => {
          if (input.records.some((r) => Buffer.from(r.data).toString().startsWith('b-'))) await blocked
        },
      },
    )
    try {
      const timeoutMillis = 2_000
      await fleet.start('ts-worker', { ...kcl3(), gracefulLeaseHandoffTimeoutMillis: timeoutMillis })
      await javaAssign(dynamodb, table, id, 'ts-worker')
      const first = await putInto(stream, shard!, 5, 'a')
      await waitFor('the first records', () => fleet.journal.deliveries.length === 5)
      await waitFor(
        'their checkpoint',
        async () => (await fleet.leases()).get(id)?.checkpoint.sequenceNumber === first.at(-1),
      )
      await putInto(stream, shard!, 5, 'b')
      await sleep(500)
      const startedAt = Date.now()
      expect(await javaInitiateHandoff(dynamodb, table, id, 'java-new')).toBe(true)
      await waitFor(
        'the lease assigned to java-new',
        async () => {
          const lease = (await fleet.leases()).get(id)
          return lease?.leaseOwner === 'java-new' && lease.checkpointOwner === undefined
        },
        15_000,
      )
      const elapsed = Date.now() - startedAt
      // Not before the timeout; within it plus one 2 s check (and slack for a busy machine).
      expect(elapsed).toBeGreaterThanOrEqual(timeoutMillis)
      expect(elapsed).toBeLessThan(timeoutMillis + 2_000 + 3_000)
      unblock()
      await sleep(FAST.failoverTimeMillis)
      const lease = (await fleet.leases()).get(id)!
      expect(lease).toMatchObject({ leaseOwner: 'java-new', checkpoint: { sequenceNumber: first.at(-1) } })
      console.log(`kcl3 worker: handoff timeout ${timeoutMillis} ms, assigned after ${elapsed} ms`)
    } finally {
      unblock()
      await fleet.close()
    }
  })

  it('a graceful handoff to the TypeScript worker: ignored while checkpointOwner is set, then started from the Java checkpoint', async () => {
    const { stream, shard, id } = await oneShardStream()
    const table = uniqueName('kcl3-handoff-in')
    const fleet = new Fleet(stream, table)
    try {
      const worker = await fleet.start('ts-worker', kcl3())
      await javaAssign(dynamodb, table, id, 'java-old')
      let stopRenewing = javaWorkerRenewing(dynamodb, table, [id], FAST.failoverTimeMillis)
      const sequences = await putInto(stream, shard!, 30, 'r')
      await javaCheckpoint(dynamodb, table, id, sequences[9]!)
      // The Java leader moves the lease; the Java old owner keeps renewing without the expectation.
      expect(await javaInitiateHandoff(dynamodb, table, id, 'ts-worker')).toBe(true)
      await stopRenewing()
      stopRenewing = javaWorkerRenewing(dynamodb, table, [id], FAST.failoverTimeMillis, true)
      await holdsFor(3 * FAST.failoverTimeMillis, () => expect(worker.leases).toEqual([]))
      expect(fleet.journal.deliveries).toEqual([])
      // The Java old owner's shutdownRequested checkpoint, then its assign to the new leaseOwner.
      await javaCheckpoint(dynamodb, table, id, sequences[19]!)
      await stopRenewing()
      expect(await javaAssign(dynamodb, table, id, 'ts-worker')).toBe(true)
      await waitFor('the lease held', () => worker.leases.length === 1, 10_000)
      await waitFor('the records after the checkpoint', () => fleet.journal.deliveries.length >= 10)
      await sleep(FAST.failoverTimeMillis)
      expect(fleet.journal.callsOf('initialize')[0]?.detail).toEqual({
        sequenceNumber: sequences[19],
        subSequenceNumber: 0,
      })
      // Nothing at or below the checkpoint again.
      expect(fleet.journal.deliveries.map((d) => d.sequenceNumber)).toEqual(sequences.slice(20))
    } finally {
      await fleet.close()
    }
  })

  it("never takes a live Java worker's leases, nor a dead one's: the leader reassigns", async () => {
    const stream = await createStream(kinesis, 4)
    const ids = (await listAllShards(kinesis, stream)).map((s) => s.ShardId!)
    const table = uniqueName('kcl3-no-steal')
    const fleet = new Fleet(stream, table)
    try {
      const worker = await fleet.start('ts-worker', kcl3())
      for (const id of ids.slice(0, 3)) await javaAssign(dynamodb, table, id, 'java-worker')
      await javaAssign(dynamodb, table, ids[3]!, 'ts-worker')
      const stopRenewing = javaWorkerRenewing(dynamodb, table, ids.slice(0, 3), FAST.failoverTimeMillis)
      await waitFor('its one lease', () => worker.leases.length === 1, 10_000)
      // A 2.x worker would steal towards its share of 2 within a few taker rounds (300 ms each).
      await holdsFor(3 * FAST.failoverTimeMillis, () => expect(worker.leases).toEqual([ids[3]]))
      await stopRenewing()
      // Expired now, and still not taken: in 3.x only the leader assigns.
      await holdsFor(3 * FAST.failoverTimeMillis, () => expect(worker.leases).toEqual([ids[3]]))
      const leases = await fleet.leases()
      for (const id of ids.slice(0, 3)) expect(leases.get(id)?.leaseOwner).toBe('java-worker')
    } finally {
      await fleet.close()
    }
  })

  it('restarted under the same worker id, it renews the leases it still owns and resumes them from their checkpoints', async () => {
    const stream = await createStream(kinesis, 2)
    const shards = await listAllShards(kinesis, stream)
    const ids = shards.map((s) => s.ShardId!)
    const table = uniqueName('kcl3-restart')
    const fleet = new Fleet(stream, table)
    try {
      const first = await fleet.start('ts-worker', kcl3())
      for (const id of ids) await javaAssign(dynamodb, table, id, 'ts-worker')
      const before = new Map<string, string[]>()
      for (const shard of shards) before.set(shard.ShardId!, await putInto(stream, shard, 5, `${shard.ShardId}-a`))
      await waitFor('the records', () => fleet.journal.deliveries.length === 10, 10_000)
      await waitFor('the checkpoints', async () => {
        const leases = await fleet.leases()
        return ids.every((id) => leases.get(id)?.checkpoint.sequenceNumber === before.get(id)!.at(-1))
      })
      // A crash, and the same worker back before its leases expire.
      await first.destroy()
      const second = await fleet.start('ts-worker', kcl3())
      await waitFor('both leases held again', () => second.leases.length === 2, 10_000)
      for (const shard of shards) await putInto(stream, shard, 5, `${shard.ShardId}-b`)
      await waitFor('the new records', () => fleet.journal.deliveries.length === 20, 10_000)
      // Resumed after the checkpoints: nothing delivered twice.
      expect(fleet.journal.distinctData().size).toBe(20)
    } finally {
      await fleet.close()
    }
  })

  it('serves a Java KCL 2.x lease table without the GSI from a scan', async () => {
    const stream = await createStream(kinesis, 2)
    const shards = await listAllShards(kinesis, stream)
    const table = uniqueName('kcl3-no-gsi')
    await javaCreate2xLeaseTable(dynamodb, table)
    const fleet = new Fleet(stream, table)
    try {
      const worker = await fleet.start('ts-worker', kcl3())
      await putInto(stream, shards[1]!, 5, 'x')
      expect(await javaAssign(dynamodb, table, shards[1]!.ShardId!, 'ts-worker')).toBe(true)
      await waitFor('the assigned lease held', () => worker.leases.length === 1, 10_000)
      await waitFor('its records', () => fleet.journal.deliveries.length === 5)
      expect(worker.leases).toEqual([shards[1]!.ShardId])
    } finally {
      await fleet.close()
    }
  })
})

/** The consumer's defaults where FAST scales them down (the timings a graceful handoff depends on). */
const DEFAULT_TIMINGS = {
  failoverTimeMillis: 10_000,
  dynamoDbRequestTimeoutMillis: 2_500,
  idleTimeBetweenReadsInMillis: 1_500,
} satisfies Partial<KinesisConsumerOptions>

describe.each([
  ['FAST timings', {}],
  ['the default timings', DEFAULT_TIMINGS],
])('graceful handoffs between two KCL 3.x TypeScript workers at %s', (timings, options) => {
  it('a leader-initiated handoff under load: the new owner resumes after the final checkpoint, nothing redelivered, per-key order kept', async () => {
    const stream = await createStream(kinesis, 2)
    const shards = await listAllShards(kinesis, stream)
    const ids = shards.map((s) => s.ShardId!)
    const table = uniqueName('kcl3-ts-handoff')
    const fleet = new Fleet(stream, table, options)
    let producing = true
    try {
      const a = await fleet.start('ts-a', kcl3())
      const b = await fleet.start('ts-b', kcl3())
      for (const id of ids) await javaAssign(dynamodb, table, id, 'ts-a')
      await waitFor('ts-a holding both', () => a.leases.length === 2, 10_000)
      let batch = 0
      const production = (async () => {
        while (producing) {
          for (const shard of shards) await putInto(stream, shard, 5, `${shard.ShardId}-${batch}`)
          batch++
          await sleep(100)
        }
      })()
      await waitFor('records flowing', () => fleet.journal.deliveries.length >= 50)
      const startedAt = Date.now()
      expect(await javaInitiateHandoff(dynamodb, table, ids[0]!, 'ts-b')).toBe(true)
      await waitFor('ts-b consuming the handed-off shard', () =>
        fleet.journal.deliveries.some((d) => d.workerId === 'ts-b' && d.shardId === ids[0]),
      )
      const resumedMs = Date.now() - startedAt
      const initializedMs = fleet.journal.callsOf('initialize').find((c) => c.workerId === 'ts-b')!.at - startedAt
      await sleep(1_000)
      producing = false
      await production
      const total = batch * 5 * shards.length
      await waitFor('every record', () => fleet.journal.distinctData().size === total, 30_000)
      // Nothing at or below the final checkpoint again: each record delivered exactly once.
      expect(fleet.journal.deliveries).toHaveLength(total)
      expect(sorted(a.leases)).toEqual([ids[1]])
      expect(b.leases).toEqual([ids[0]])
      const handedOff = fleet.journal.deliveries.filter((d) => d.shardId === ids[0])
      const sequences = handedOff.map((d) => BigInt(d.sequenceNumber))
      expect(sequences).toEqual([...sequences].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)))
      expect(fleet.journal.callsOf('shutdownRequested').map((c) => [c.workerId, c.shardId])).toEqual([['ts-a', ids[0]]])
      // Graceful target: < 2 s from the leader's write to the new owner starting from the checkpoint
      // (initialize); its first batch follows after its first reads. Slack for a loaded machine.
      expect(initializedMs).toBeLessThan(3_000)
      expect(resumedMs).toBeLessThan(5_000)
      console.log(
        `kcl3 worker: TS → TS handoff at ${timings}, new owner initialized ${initializedMs} ms and its first batch ${resumedMs} ms after the leader's write`,
      )
    } finally {
      producing = false
      await fleet.close()
    }
  })
})

describe('graceful shutdown of a KCL 3.x worker', () => {
  it('gives each lease, after its final checkpoint, to the least-loaded live peer; never to a worker with stale metrics', async () => {
    const stream = await createStream(kinesis, 6)
    const shards = await listAllShards(kinesis, stream)
    const ids = shards.map((s) => s.ShardId!)
    const table = uniqueName('kcl3-shutdown')
    const fleet = new Fleet(stream, table)
    try {
      const metrics = leaseTableMetrics(table)
      const a = await fleet.start('ts-a', kcl3(metrics))
      const b = await fleet.start('ts-b', kcl3(metrics))
      const c = await fleet.start('ts-c', kcl3(metrics))
      for (const id of ['ts-a', 'ts-b', 'ts-c']) await javaReports(table, id)
      // Reported an hour ago: the Java leader would count it dead (lut older than 2 × 30 s).
      await javaReports(table, 'java-stale', Math.floor(Date.now() / 1_000) - 3_600)
      for (const id of ids.slice(0, 4)) await javaAssign(dynamodb, table, id, 'ts-a')
      await javaAssign(dynamodb, table, ids[4]!, 'ts-c')
      await javaAssign(dynamodb, table, ids[5]!, 'java-stale')
      for (const shard of shards) await putInto(stream, shard, 5, shard.ShardId!)
      await waitFor('ts-a and ts-c consuming', () => a.leases.length === 4 && c.leases.length === 1, 10_000)
      await waitFor('their records', () => fleet.journal.deliveries.length === 25)
      const stoppedAt = Date.now()
      await a.shutdown()
      const owners = await fleet.leases()
      const given = ids.slice(0, 4).map((id) => owners.get(id)?.leaseOwner)
      // Loads b 0, c 1: b, then b (tie, by name), c, b.
      expect(given.filter((o) => o === 'ts-b')).toHaveLength(3)
      expect(given.filter((o) => o === 'ts-c')).toHaveLength(1)
      for (const id of ids.slice(0, 4)) {
        expect(owners.get(id)?.checkpointOwner).toBeUndefined()
        expect(owners.get(id)?.checkpoint.sequenceNumber).not.toBe('TRIM_HORIZON')
      }
      expect(fleet.journal.callsOf('shutdownRequested').filter((call) => call.workerId === 'ts-a')).toHaveLength(4)
      await waitFor('the peers holding them', () => b.leases.length === 3 && c.leases.length === 2, 10_000)
      const resumedMs = Date.now() - stoppedAt
      // Nothing redelivered after the final checkpoints.
      expect(fleet.journal.deliveries).toHaveLength(25)
      expect(resumedMs).toBeLessThan(5_000)
      console.log(`kcl3 worker: shutdown → leases held by peers after ${resumedMs} ms`)
    } finally {
      await fleet.close()
    }
  })

  it('evicts its leases when no peer is live', async () => {
    const stream = await createStream(kinesis, 2)
    const ids = (await listAllShards(kinesis, stream)).map((s) => s.ShardId!)
    const table = uniqueName('kcl3-evict')
    const fleet = new Fleet(stream, table)
    try {
      const metrics = leaseTableMetrics(table)
      const worker = await fleet.start('ts-alone', kcl3(metrics))
      await javaReports(table, 'ts-alone')
      await javaReports(table, 'java-stale', Math.floor(Date.now() / 1_000) - 3_600)
      for (const id of ids) await javaAssign(dynamodb, table, id, 'ts-alone')
      await waitFor('both leases', () => worker.leases.length === 2, 10_000)
      await worker.shutdown()
      const leases = await fleet.leases()
      for (const id of ids) expect(leases.get(id)?.leaseOwner).toBeUndefined()
    } finally {
      await fleet.close()
    }
  })
})

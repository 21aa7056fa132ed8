import { sleep } from '@kinesis-ts/shared'
import { afterAll, describe, expect, it } from 'vitest'
import type { KinesisConsumerOptions } from '../../packages/consumer/src/index.js'
import type { ItemTable, LeaderDecider } from '../../packages/consumer/src/kcl3/contracts.js'
import { LeaseAssignmentManager } from '../../packages/consumer/src/kcl3/lease-assignment-manager.js'
import { WorkerMetricStatsStore } from '../../packages/consumer/src/kcl3/worker-metric-stats-store.js'
import { KCL3_WORKER_MODE } from '../../packages/consumer/src/kcl3/worker-mode.js'
import { LeaseStore } from '../../packages/consumer/src/leases/lease-store.js'
import { FAST, Fleet, expectPerKeyOrder, putAll, waitFor } from '../consumer/support/harness.js'
import { createStream, dynamoDBClient, kinesisClient, uniqueName } from '../support/aws.js'
import { javaUpdateMetrics } from './support/java-writes-metrics.js'

const kinesis = kinesisClient()
const dynamodb = dynamoDBClient()
afterAll(() => {
  kinesis.destroy()
  dynamodb.destroy()
})

/** Leadership is part A's (the lock); here the test's manager always leads. */
const alwaysLeader: LeaderDecider = { isLeader: async () => true }

/** Scaled down: a worker whose report is older than 6 s counts as dead (Java: 2 × 30 s; lut has whole seconds). */
const REPORT_EVERY_MS = 3_000

const kcl3 = (metrics: WorkerMetricStatsStore) =>
  ({
    [KCL3_WORKER_MODE]: { workerMetrics: metrics },
    workerMetricsReporterFreqInMillis: REPORT_EVERY_MS,
  }) as Partial<KinesisConsumerOptions>

describe('TypeScript-only KCL 3.x fleet: part B’s leader assigning, these workers discovering', () => {
  it('3 workers on 8 shards converge and consume; a crashed worker’s shards and a stopped one’s resume elsewhere from their checkpoints', async () => {
    const stream = await createStream(kinesis, 8)
    const tableName = uniqueName('kcl3-fleet')
    const table: ItemTable = { tableName, keyAttribute: 'leaseKey', sharedWithLeases: true }
    const metrics = new WorkerMetricStatsStore({
      client: dynamodb,
      writeTable: table,
      readTables: [table],
      timeoutMs: 5_000,
    })
    const fleet = new Fleet(stream, tableName)
    const leaderStop = new AbortController()
    let leading: Promise<void> | undefined
    let reportsDone: Promise<void> | undefined
    try {
      const workers = [
        await fleet.start('ts-a', kcl3(metrics)),
        await fleet.start('ts-b', kcl3(metrics)),
        await fleet.start('ts-c', kcl3(metrics)),
      ]
      // Until part B's reporter is wired into the worker, each live worker's report is written as a Java
      // worker writes it, every 0.5 s (a crashed worker stops reporting, as a dead process does).
      const reporting = new Set(['ts-a', 'ts-b', 'ts-c'])
      const reports = (async () => {
        while (!leaderStop.signal.aborted) {
          for (const id of reporting)
            await javaUpdateMetrics(dynamodb, table, {
              workerId: id,
              lutSeconds: Math.floor(Date.now() / 1_000),
              // The default metric (no CPU source, as off EC2): the leader balances by lease throughput.
              sts: {},
              opr: {},
            })
          await sleep(500)
        }
      })()
      reportsDone = reports
      const manager = new LeaseAssignmentManager({
        leaseStore: new LeaseStore(dynamodb, tableName, 5_000),
        metricsStore: metrics,
        workerMetricsTables: [table],
        leader: alwaysLeader,
        failoverTimeMillis: FAST.failoverTimeMillis,
        leaseAssignmentIntervalMillis: 2 * FAST.failoverTimeMillis,
        leaseExpiryWatchIntervalMillis: 250,
        workerMetricsReporterFreqInMillis: REPORT_EVERY_MS,
        onError: () => {},
      })
      leading = manager.run(leaderStop.signal)
      // Every lease assigned and held. How evenly is the leader's business (part B): with idle leases
      // (throughputKBps 0) and the default metric it may leave them 7/1/0, so no balance is asserted here.
      await waitFor('8 leases held', () => workers.reduce((n, w) => n + w.leases.length, 0) === 8, 20_000)
      const distribution = workers.map((w) => w.leases.length)
      // 80 keys, 5 records each per round: data `key-k:n`, n counting 0..14 over three rounds.
      const records = (round: number) =>
        Array.from({ length: 400 }, (_, i) => ({
          partitionKey: `key-${i % 80}`,
          data: Buffer.from(`key-${i % 80}:${round * 5 + Math.floor(i / 80)}`),
        }))
      await putAll(kinesis, stream, records(0))
      await waitFor('the first records', () => fleet.journal.distinctData().size === 400)

      // Crash: no shutdown, leases left to expire; the leader reassigns them, the survivors discover them.
      // The busiest worker crashes, the next busiest stops gracefully.
      const [crashed, stopped, survivor] = [...workers].sort((x, y) => y.leases.length - x.leases.length) as [
        (typeof workers)[0],
        (typeof workers)[0],
        (typeof workers)[0],
      ]
      expect(crashed.leases.length).toBeGreaterThan(0)
      const crashedLeases = [...crashed.leases]
      const crashedAt = Date.now()
      await crashed.destroy()
      reporting.delete(crashed.workerId)
      await waitFor(
        'the crashed worker’s leases held by the others',
        () => crashedLeases.every((id) => stopped.leases.includes(id) || survivor.leases.includes(id)),
        20_000,
      )
      const crashMs = Date.now() - crashedAt
      await putAll(kinesis, stream, records(1))
      await waitFor('the second records', () => fleet.journal.distinctData().size === 800)

      // Graceful: the stopped worker's leases go to the survivor, the only other live worker (the crashed
      // one's report is stale by now), at once.
      await waitFor('the crashed worker’s report stale', async () => {
        const stats = await metrics.list(AbortSignal.timeout(5_000))
        const a = stats.find((m) => m.workerId === crashed.workerId)
        return a !== undefined && Date.now() - a.lastUpdateTimeSeconds * 1_000 > 2 * REPORT_EVERY_MS
      })
      const stoppedAt = Date.now()
      await stopped.shutdown()
      await waitFor('every lease with the survivor', () => survivor.leases.length === 8, 10_000)
      const gracefulMs = Date.now() - stoppedAt
      await putAll(kinesis, stream, records(2))
      await waitFor('the third records', () => fleet.journal.distinctData().size === 1_200, 30_000)
      await sleep(FAST.failoverTimeMillis)

      expectPerKeyOrder(fleet.journal.byKey(), 15)
      // After the graceful stop nothing was redelivered: the final checkpoints were honoured.
      const third = fleet.journal.deliveries.filter((d) => Number(d.data.split(':')[1]) >= 10)
      expect(third).toHaveLength(400)
      expect(crashMs).toBeLessThan(FAST.failoverTimeMillis + 2_000 + 3_000)
      expect(gracefulMs).toBeLessThan(4_000)
      console.log(
        `kcl3 fleet: leases ${distribution.join('/')}; crashed worker's ${crashedLeases.length} leases held elsewhere after ${crashMs} ms (failover ${FAST.failoverTimeMillis} ms); stopped worker's after ${gracefulMs} ms`,
      )
    } finally {
      leaderStop.abort()
      await leading
      await reportsDone
      await fleet.close()
    }
  })
})

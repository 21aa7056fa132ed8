import { GetItemCommand } from '@aws-sdk/client-dynamodb'
import { afterAll, describe, expect, it } from 'vitest'
import type { ItemTable, WorkerMetricStats } from '../../packages/consumer/src/kcl3/contracts.js'
import {
  activeWorkerMetrics,
  isUsingDefaultWorkerMetric,
  isValidWorkerMetricStats,
} from '../../packages/consumer/src/kcl3/worker-metric-rules.js'
import { WorkerMetricStatsStore } from '../../packages/consumer/src/kcl3/worker-metric-stats-store.js'
import {
  WorkerMetricsReporter,
  processCpuMetric,
  supportCodeFor,
} from '../../packages/consumer/src/kcl3/worker-metrics-reporter.js'
import { LeaseStore } from '../../packages/consumer/src/leases/lease-store.js'
import { ensureLeaseTable } from '../../packages/consumer/src/leases/lease-table.js'
import { newLease } from '../../packages/consumer/src/leases/lease.js'
import { dynamoDBClient, uniqueName } from '../support/aws.js'
import {
  java34UpdateLegacyMetrics,
  javaCreateLegacyWorkerMetricsTable,
  javaUpdateMetrics,
} from './support/java-writes-metrics.js'

const dynamodb = dynamoDBClient()
afterAll(() => dynamodb.destroy())

const TRIM = { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 }
const nowSeconds = () => Math.floor(Date.now() / 1000)

async function leaseTable(): Promise<ItemTable> {
  const tableName = uniqueName('kcl3-metrics')
  await ensureLeaseTable(dynamodb, tableName, AbortSignal.timeout(30_000))
  return { tableName, keyAttribute: 'leaseKey', sharedWithLeases: true }
}

async function legacyTable(): Promise<ItemTable> {
  const tableName = `${uniqueName('app')}-WorkerMetricStats`
  await javaCreateLegacyWorkerMetricsTable(dynamodb, tableName)
  return { tableName, keyAttribute: 'wid', sharedWithLeases: false }
}

function store(write: ItemTable, read: ItemTable[] = [write]) {
  return new WorkerMetricStatsStore({ client: dynamodb, writeTable: write, readTables: read, timeoutMs: 5_000 })
}

const signal = () => AbortSignal.timeout(10_000)

const ours = (workerId: string): WorkerMetricStats => ({
  workerId,
  lastUpdateTimeSeconds: nowSeconds(),
  metricStats: { C: [12.5, 40.123457, -1] },
  operatingRange: { C: [100] },
  supportCode: 1,
  supportLastUpdateTimeSeconds: nowSeconds(),
})

describe('WorkerMetricStats items (kcl3-protocol §8)', () => {
  it('round-trip in the lease table, beside leases that neither reader mistakes for its own', async () => {
    const table = await leaseTable()
    const metrics = store(table)
    const leases = new LeaseStore(dynamodb, table.tableName, 5_000)
    await leases.createLeaseIfNotExists(newLease('shardId-000000000000', TRIM, [], undefined))
    const written = ours('worker-a')
    await metrics.write(written, signal())
    expect(await metrics.list(signal())).toEqual([written])
    expect((await leases.listLeases()).map((l) => l.leaseKey)).toEqual(['shardId-000000000000'])
    const { Item } = await dynamodb.send(
      new GetItemCommand({ TableName: table.tableName, Key: { leaseKey: { S: 'worker-a' } } }),
    )
    expect(Item).toMatchObject({
      entityType: { S: 'WORKER_METRIC_STATS' },
      lut: { N: String(written.lastUpdateTimeSeconds) },
      sts: { M: { C: { L: [{ N: '12.5' }, { N: '40.123457' }, { N: '-1' }] } } },
      opr: { M: { C: { L: [{ N: '100' }] } } },
      sup: { N: '1' },
    })
  })

  it('round-trip in the legacy `wid` table (scanned unfiltered); a second report replaces the first', async () => {
    const table = await legacyTable()
    const metrics = store(table)
    await metrics.write(ours('worker-b'), signal())
    const second = { ...ours('worker-b'), metricStats: { C: [1, 2] } }
    await metrics.write(second, signal())
    expect(await metrics.list(signal())).toEqual([second])
  })

  it('reads items written exactly as Java 3.5 and 3.4 write them, legacy table first', async () => {
    const lease = await leaseTable()
    const legacy = await legacyTable()
    const lut = nowSeconds()
    await javaUpdateMetrics(dynamodb, lease, {
      workerId: 'java-35-ec2',
      lutSeconds: lut,
      sts: { C: [90, 87.654321, -1] },
      opr: { C: [100] },
    })
    // Off EC2/ECS/EKS Java reports the default metric: empty maps (WorkerMetricsSelector).
    await javaUpdateMetrics(dynamodb, lease, { workerId: 'java-35-laptop', lutSeconds: lut, sts: {}, opr: {} })
    await java34UpdateLegacyMetrics(dynamodb, legacy.tableName, {
      workerId: 'java-34',
      lutSeconds: lut - 5,
      sts: { C: [10] },
      opr: { C: [80] },
    })
    const all = await store(lease, [legacy, lease]).list(signal())
    expect(all[0]).toEqual({
      workerId: 'java-34',
      lastUpdateTimeSeconds: lut - 5,
      metricStats: { C: [10] },
      operatingRange: { C: [80] },
    })
    const byId = new Map(all.map((s) => [s.workerId, s]))
    expect(byId.get('java-35-ec2')).toEqual({
      workerId: 'java-35-ec2',
      lastUpdateTimeSeconds: lut,
      metricStats: { C: [90, 87.654321, -1] },
      operatingRange: { C: [100] },
      supportCode: 1,
      supportLastUpdateTimeSeconds: lut,
    })
    const laptop = byId.get('java-35-laptop')!
    expect(isUsingDefaultWorkerMetric(laptop) && isValidWorkerMetricStats(laptop)).toBe(true)
    // The EC2 worker's last report failed (−1): valid, but the leader gives it nothing.
    expect(
      activeWorkerMetrics(all, Date.now(), 30_000)
        .map((s) => s.workerId)
        .sort(),
    ).toEqual(['java-34', 'java-35-laptop'])
  })

  it('deletes a stale item only while its lut is the one judged', async () => {
    const table = await leaseTable()
    const metrics = store(table)
    const old = { ...ours('gone'), lastUpdateTimeSeconds: nowSeconds() - 2 * 86_400 }
    await javaUpdateMetrics(dynamodb, table, {
      workerId: 'gone',
      lutSeconds: old.lastUpdateTimeSeconds,
      sts: { C: [1] },
      opr: { C: [100] },
    })
    // The worker came back meanwhile: its new lut fails the condition.
    await metrics.write(ours('gone'), signal())
    expect(await metrics.deleteStale(table, old, signal())).toBe(false)
    expect(await metrics.list(signal())).toHaveLength(1)
    const [current] = await metrics.list(signal())
    expect(await metrics.deleteStale(table, current!, signal())).toBe(true)
    expect(await metrics.list(signal())).toEqual([])
    expect(await metrics.deleteStale(table, current!, signal())).toBe(false)
  })
})

describe('WorkerMetricsReporter', () => {
  it('reports on its cadence, keeps the last N averages, −1 for a period without samples; stops on abort', async () => {
    const table = await leaseTable()
    const metrics = store(table)
    let failing = false
    const reporter = new WorkerMetricsReporter({
      workerId: 'ts-worker',
      store: metrics,
      metrics: [
        processCpuMetric(),
        {
          shortName: 'M',
          maxUtilization: 80,
          capture: () => {
            if (failing) throw new Error('unreadable')
            return 30
          },
        },
      ],
      workerMetricsReporterFreqInMillis: 300,
      inMemoryWorkerMetricsCaptureFrequencyMillis: 50,
      noOfPersistedMetricsPerWorkerMetrics: 3,
      firstReportDelayMillis: 100,
      supportCode: supportCodeFor({ kind: 'single' }),
      onError: (error) => {
        throw error
      },
    })
    const controller = new AbortController()
    const running = reporter.run(controller.signal)
    const read = async () => (await metrics.list(signal()))[0]
    await expect.poll(read, { timeout: 5_000, interval: 50 }).toBeDefined()
    const first = (await read())!
    expect(first.operatingRange).toEqual({ C: [100], M: [80] })
    expect(first.metricStats.M).toEqual([30])
    expect(first.supportCode).toBe(1)
    expect(Math.abs(first.lastUpdateTimeSeconds - nowSeconds())).toBeLessThanOrEqual(2)
    await expect.poll(async () => (await read())!.metricStats.M!.length, { timeout: 5_000 }).toBe(3)
    failing = true
    await expect.poll(async () => (await read())!.metricStats.M!.at(-1), { timeout: 5_000 }).toBe(-1)
    const latest = (await read())!
    expect(latest.metricStats.M).toHaveLength(3)
    for (const cpu of latest.metricStats.C!) expect(cpu).toBeGreaterThanOrEqual(0)
    controller.abort()
    await running
    const stopped = JSON.stringify(await read())
    await new Promise((resolve) => setTimeout(resolve, 700))
    expect(JSON.stringify(await read())).toBe(stopped)
  })

  it('in the legacy layout writes no sup (and no slu)', () => {
    expect(supportCodeFor({ kind: 'legacy' })).toBeUndefined()
    const reporter = new WorkerMetricsReporter({
      workerId: 'w',
      store: { write: async () => {} },
      metrics: [],
      workerMetricsReporterFreqInMillis: 30_000,
      inMemoryWorkerMetricsCaptureFrequencyMillis: 1_000,
      noOfPersistedMetricsPerWorkerMetrics: 10,
      firstReportDelayMillis: 2_000,
      supportCode: supportCodeFor({ kind: 'legacy' }),
      onError: () => {},
      now: () => 1_700_000_000_500,
    })
    // No metric: the Java default metric, empty maps.
    expect(reporter.nextReport()).toEqual({
      workerId: 'w',
      lastUpdateTimeSeconds: 1_700_000_000,
      metricStats: {},
      operatingRange: {},
    })
  })
})

describe('WorkerMetricsReporter options', () => {
  it('names the option and its limit', () => {
    const options = {
      workerId: 'w',
      store: { write: async () => {} },
      metrics: [],
      workerMetricsReporterFreqInMillis: 0,
      inMemoryWorkerMetricsCaptureFrequencyMillis: 1_000,
      noOfPersistedMetricsPerWorkerMetrics: 10,
      firstReportDelayMillis: 2_000,
      onError: () => {},
    }
    expect(() => new WorkerMetricsReporter(options)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_CONFIG', option: 'workerMetricsReporterFreqInMillis' }),
    )
  })
})

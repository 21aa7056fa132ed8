import { GetItemCommand } from '@aws-sdk/client-dynamodb'
import { sleep } from '@kinesis-ts/shared'
import { createDynamoDBClient } from '@kinesis-ts/shared/dynamodb'
import { afterAll, describe, expect, it } from 'vitest'
import { ClientVersionChangeMonitor } from '../../packages/consumer/src/kcl3/client-version-change-monitor.js'
import type { CoordinatorLayout, ItemTable } from '../../packages/consumer/src/kcl3/contracts.js'
import { resolveCoordinatorLayout } from '../../packages/consumer/src/kcl3/coordinator-layout.js'
import { CoordinatorStateStore } from '../../packages/consumer/src/kcl3/coordinator-state-store.js'
import { DynamoDbLeaderLock } from '../../packages/consumer/src/kcl3/leader-lock.js'
import { isLeaseOwnerIndexActive } from '../../packages/consumer/src/kcl3/lease-owner-index.js'
import { MigrationReadyMonitor } from '../../packages/consumer/src/kcl3/migration-ready-monitor.js'
import {
  type MigrationState,
  changeClientVersion,
  initializeMigrationState,
  readMigrationState,
} from '../../packages/consumer/src/kcl3/migration-state.js'
import { WorkerMetricStatsStore } from '../../packages/consumer/src/kcl3/worker-metric-stats-store.js'
import { LeaseStore } from '../../packages/consumer/src/leases/lease-store.js'
import { ensureLeaseTable } from '../../packages/consumer/src/leases/lease-table.js'
import { newLease } from '../../packages/consumer/src/leases/lease.js'
import { clientOptions, dynamoDBClient, endpoints, uniqueName } from '../support/aws.js'
import { startFaultProxy } from '../support/fault-proxy.js'
import { javaUpdateMetrics } from './support/java-writes-metrics.js'
import {
  createCoordinatorStateTableAsJava34,
  createMigrationStateAsJava,
  rollbackAsKclMigrationTool,
} from './support/java-writes.js'

const dynamodb = dynamoDBClient()
const cleanups: (() => Promise<void>)[] = []
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup()
  dynamodb.destroy()
})

async function app({ legacy = false } = {}) {
  const name = uniqueName('kcl3-mig')
  await ensureLeaseTable(dynamodb, name, AbortSignal.timeout(30_000))
  if (legacy) await createCoordinatorStateTableAsJava34(dynamodb, name)
  const layout = await resolveCoordinatorLayout({
    dynamodb,
    applicationName: name,
    leaseTableName: name,
    migrateAllEntitiesToLeaseTable: false,
    timeoutMs: 5_000,
  })
  const leaseTable: ItemTable = { tableName: name, keyAttribute: 'leaseKey', sharedWithLeases: true }
  return { name, layout, leaseTable, store: new CoordinatorStateStore(dynamodb, layout, 5_000) }
}

async function raw(table: string, keyAttribute: string) {
  const { Item } = await dynamodb.send(
    new GetItemCommand({ TableName: table, Key: { [keyAttribute]: { S: 'Migration3.0' } }, ConsistentRead: true }),
  )
  return Item
}

describe('Migration3.0 start state, written as Java writes it (kcl3-protocol §9)', () => {
  it('3x on a new app creates CLIENT_VERSION_3X with the INIT history entry and entityType', async () => {
    const { name, store } = await app()
    const start = await initializeMigrationState({ store, config: '3x', workerId: 'ts-1' })
    expect(start.clientVersion).toBe('CLIENT_VERSION_3X')
    const item = await raw(name, 'leaseKey')
    expect(item).toMatchObject({
      leaseKey: { S: 'Migration3.0' },
      cv: { S: 'CLIENT_VERSION_3X' },
      mb: { S: 'ts-1' },
      entityType: { S: 'CLIENT_VERSION_MIGRATION' },
      h: { L: [{ M: { cv: { S: 'CLIENT_VERSION_INIT' }, mb: { S: 'ts-1' } } }] },
    })
    expect(Math.abs(Number(item!.mts!.N) - Date.now())).toBeLessThan(60_000)
  })

  it('compatibleWith2x creates UPGRADE_FROM_2X; compatibleWith2xPhase1 writes nothing', async () => {
    const upgrading = await app()
    expect(
      (await initializeMigrationState({ store: upgrading.store, config: 'compatibleWith2x', workerId: 'ts' }))
        .clientVersion,
    ).toBe('CLIENT_VERSION_UPGRADE_FROM_2X')
    expect((await raw(upgrading.name, 'leaseKey'))?.cv).toEqual({ S: 'CLIENT_VERSION_UPGRADE_FROM_2X' })

    const phase1 = await app()
    const start = await initializeMigrationState({
      store: phase1.store,
      config: 'compatibleWith2xPhase1',
      workerId: 'ts',
    })
    expect(start).toEqual({ clientVersion: 'CLIENT_VERSION_INIT', state: undefined })
    expect(await raw(phase1.name, 'leaseKey')).toBeUndefined()
  })

  it('the stored version wins over the config; 3X_WITH_ROLLBACK is finished to 3X by a 3x worker', async () => {
    const { name, store, leaseTable } = await app()
    await createMigrationStateAsJava(dynamodb, leaseTable, 'CLIENT_VERSION_UPGRADE_FROM_2X', 'java-1', 1_000)
    expect((await initializeMigrationState({ store, config: '3x', workerId: 'ts' })).clientVersion).toBe(
      'CLIENT_VERSION_UPGRADE_FROM_2X',
    )
    expect((await raw(name, 'leaseKey'))?.mb).toEqual({ S: 'java-1' })

    const other = await app()
    await createMigrationStateAsJava(dynamodb, other.leaseTable, 'CLIENT_VERSION_3X_WITH_ROLLBACK', 'java-1', 1_000)
    expect(
      (await initializeMigrationState({ store: other.store, config: 'compatibleWith2x', workerId: 'ts' }))
        .clientVersion,
    ).toBe('CLIENT_VERSION_3X_WITH_ROLLBACK')
    const start = await initializeMigrationState({ store: other.store, config: '3x', workerId: 'ts' })
    expect(start.clientVersion).toBe('CLIENT_VERSION_3X')
    expect(await readMigrationState(other.store)).toMatchObject({
      clientVersion: 'CLIENT_VERSION_3X',
      modifiedBy: 'ts',
      history: [
        { clientVersion: 'CLIENT_VERSION_3X_WITH_ROLLBACK', modifiedBy: 'java-1', modifiedTimestamp: 1_000 },
        { clientVersion: 'CLIENT_VERSION_INIT', modifiedBy: 'java-1', modifiedTimestamp: 1_000 },
      ],
    })
  })

  it('in the legacy layout the item goes to <app>-CoordinatorState under `key`', async () => {
    const { name, store } = await app({ legacy: true })
    await initializeMigrationState({ store, config: 'compatibleWith2x', workerId: 'ts' })
    expect((await raw(`${name}-CoordinatorState`, 'key'))?.cv).toEqual({ S: 'CLIENT_VERSION_UPGRADE_FROM_2X' })
    expect(await raw(name, 'leaseKey')).toBeUndefined()
  })

  it('workers starting together agree: one creates, the others read what it wrote', async () => {
    const { store } = await app()
    const starts = await Promise.all(
      ['a', 'b', 'c'].map((workerId) => initializeMigrationState({ store, config: 'compatibleWith2x', workerId })),
    )
    expect(new Set(starts.map((start) => start.clientVersion))).toEqual(new Set(['CLIENT_VERSION_UPGRADE_FROM_2X']))
    expect(new Set(starts.map((start) => start.state?.modifiedBy)).size).toBe(1)
  })

  it('rides out a throttled read and a create that landed but answered 500', async () => {
    const { name, layout } = await app()
    const proxy = await startFaultProxy(endpoints().dynamodb, {
      rules: [
        { match: 'GetItem', times: 1, fault: { kind: 'throttle' } },
        { match: 'PutItem', times: 1, fault: { kind: 'commitThen500' } },
      ],
    })
    const client = createDynamoDBClient({ ...clientOptions(proxy.endpoint), maxAttempts: 1 })
    cleanups.push(async () => {
      client.destroy()
      await proxy.close()
    })
    const store = new CoordinatorStateStore(client, layout, 5_000)
    const start = await initializeMigrationState({ store, config: '3x', workerId: 'ts', retryDelayMs: 20 })
    expect(start.clientVersion).toBe('CLIENT_VERSION_3X')
    expect(proxy.injected('throttle', 'GetItem')).toBe(1)
    expect(proxy.injected('commitThen500', 'PutItem')).toBe(1)
    expect((await raw(name, 'leaseKey'))?.mb).toEqual({ S: 'ts' })
  })

  it('a change is conditional on the version read', async () => {
    const { store } = await app()
    const { state } = await initializeMigrationState({ store, config: 'compatibleWith2x', workerId: 'ts' })
    const stale = state!
    const flipped = await changeClientVersion({
      store,
      from: stale,
      to: 'CLIENT_VERSION_3X_WITH_ROLLBACK',
      modifiedBy: 'ts',
      nowMs: Date.now(),
    })
    expect(flipped?.clientVersion).toBe('CLIENT_VERSION_3X_WITH_ROLLBACK')
    expect(
      await changeClientVersion({ store, from: stale, to: 'CLIENT_VERSION_3X', modifiedBy: 'ts', nowMs: Date.now() }),
    ).toBeUndefined()
    expect((await readMigrationState(store))?.clientVersion).toBe('CLIENT_VERSION_3X_WITH_ROLLBACK')
  })
})

describe('ClientVersionChangeMonitor', () => {
  it('reports a rollback written by KclMigrationTool.py, with the tool as modifier and the old state in h', async () => {
    const { name, store, leaseTable } = await app()
    await createMigrationStateAsJava(dynamodb, leaseTable, 'CLIENT_VERSION_3X_WITH_ROLLBACK', 'java-1', 1_000)
    const changes: MigrationState[] = []
    const errors: unknown[] = []
    const monitor = new ClientVersionChangeMonitor({
      store,
      current: 'CLIENT_VERSION_3X_WITH_ROLLBACK',
      onChange: (state) => void changes.push(state),
      onError: (error) => void errors.push(error),
      intervalMs: 100,
      initialDelayMs: 0,
    })
    monitor.start()
    cleanups.push(() => monitor.stop())
    await sleep(400)
    expect(changes).toEqual([])
    await rollbackAsKclMigrationTool(dynamodb, leaseTable, (await raw(name, 'leaseKey'))!)
    for (let i = 0; i < 100 && changes.length === 0; i++) await sleep(50)
    await monitor.stop()
    expect(errors).toEqual([])
    expect(changes).toHaveLength(1)
    expect(changes[0]).toMatchObject({
      clientVersion: 'CLIENT_VERSION_2X',
      modifiedBy: 'KclMigrationTool-rollback',
      history: [
        { clientVersion: 'CLIENT_VERSION_3X_WITH_ROLLBACK', modifiedBy: 'java-1', modifiedTimestamp: 1_000 },
        { clientVersion: 'CLIENT_VERSION_INIT' },
      ],
    })
    expect(monitor.current).toBe('CLIENT_VERSION_2X')
    // A worker configured for 3x restarting now follows the rollback: the stored 2X wins.
    expect((await initializeMigrationState({ store, config: '3x', workerId: 'ts' })).clientVersion).toBe(
      'CLIENT_VERSION_2X',
    )
  })
})

/** Part B's reader of every worker's WorkerMetricStats, over the layout's read tables. */
const metricsOf = (layout: CoordinatorLayout) =>
  new WorkerMetricStatsStore({
    client: dynamodb,
    writeTable: layout.workerMetricsWrite,
    readTables: layout.workerMetricsRead,
    timeoutMs: 5_000,
  })

/** A Java 3.5 worker off EC2 (empty sts/opr: the default metric) reporting into the lease table. */
const reportAsJava = (leaseTableName: string, workerId: string, lutSeconds: number) =>
  javaUpdateMetrics(
    dynamodb,
    { tableName: leaseTableName, keyAttribute: 'leaseKey' },
    { workerId, lutSeconds, sts: {}, opr: {} },
  )

describe('MigrationReadyMonitor', () => {
  async function upgradingFleet() {
    const fleet = await app()
    await initializeMigrationState({ store: fleet.store, config: 'compatibleWith2x', workerId: 'java-1' })
    const leases = new LeaseStore(dynamodb, fleet.name, 5_000)
    const TRIM = { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 }
    for (const [i, owner] of ['w1', 'w2', 'w1'].entries()) {
      const shardId = `shardId-00000000000${i}`
      await leases.createLeaseIfNotExists(newLease(shardId, TRIM, [], undefined))
      await leases.take((await leases.getLease(shardId))!, owner)
    }
    const leader = new DynamoDbLeaderLock({
      dynamodb,
      table: fleet.layout.leaderLock,
      workerId: 'w1',
      leaseDurationMillis: 10_000,
      heartbeatPeriodMillis: 1_000,
      timeoutMs: 5_000,
    })
    leader.start()
    cleanups.push(() => leader.stop())
    return { ...fleet, leases, leader }
  }

  function monitorOf(fleet: Awaited<ReturnType<typeof upgradingFleet>>, flips: MigrationState[], errors: unknown[]) {
    const monitor = new MigrationReadyMonitor({
      store: fleet.store,
      leaderDecider: fleet.leader,
      workerMetrics: metricsOf(fleet.layout),
      listLeases: (signal) => fleet.leases.listLeases(signal),
      isLeaseOwnerIndexActive: (signal) => isLeaseOwnerIndexActive(dynamodb, fleet.name, 5_000, signal),
      workerId: 'w1',
      onFlipped: (state) => void flips.push(state),
      onError: (error) => void errors.push(error),
      intervalMs: 100,
      stabilizationMs: 1_000,
    })
    cleanups.push(() => monitor.stop())
    return monitor
  }

  it('flips UPGRADE_FROM_2X → 3X_WITH_ROLLBACK once every lease owner reported for the stabilisation time', async () => {
    const fleet = await upgradingFleet()
    expect(await isLeaseOwnerIndexActive(dynamodb, fleet.name, 5_000)).toBe(true)
    const nowSeconds = () => Math.floor(Date.now() / 1000)
    await reportAsJava(fleet.name, 'w1', nowSeconds())
    // w2 last reported 61 s ago: stale (lut + 2 × 30 s ≤ now), so not ready.
    await reportAsJava(fleet.name, 'w2', nowSeconds() - 61)
    const flips: MigrationState[] = []
    const errors: unknown[] = []
    const monitor = monitorOf(fleet, flips, errors)
    monitor.start()
    await sleep(2_500)
    expect(flips).toEqual([])
    expect((await readMigrationState(fleet.store))?.clientVersion).toBe('CLIENT_VERSION_UPGRADE_FROM_2X')

    const readyAt = performance.now()
    await reportAsJava(fleet.name, 'w2', nowSeconds())
    for (let i = 0; i < 200 && flips.length === 0; i++) await sleep(50)
    expect(errors).toEqual([])
    expect(flips).toHaveLength(1)
    expect(performance.now() - readyAt).toBeGreaterThanOrEqual(1_000)
    expect(await readMigrationState(fleet.store)).toMatchObject({
      clientVersion: 'CLIENT_VERSION_3X_WITH_ROLLBACK',
      modifiedBy: 'w1',
      history: [
        { clientVersion: 'CLIENT_VERSION_UPGRADE_FROM_2X', modifiedBy: 'java-1' },
        { clientVersion: 'CLIENT_VERSION_INIT' },
      ],
    })
    // It stops after the flip.
    await sleep(300)
    expect(flips).toHaveLength(1)
  })

  it('does nothing where it is not the leader', async () => {
    const fleet = await upgradingFleet()
    const other = new DynamoDbLeaderLock({
      dynamodb,
      table: fleet.layout.leaderLock,
      workerId: 'w2',
      leaseDurationMillis: 10_000,
      heartbeatPeriodMillis: 1_000,
      timeoutMs: 5_000,
    })
    other.start()
    cleanups.push(() => other.stop())
    expect(await other.isLeader(AbortSignal.timeout(5_000))).toBe(true)
    for (const worker of ['w1', 'w2']) await reportAsJava(fleet.name, worker, Math.floor(Date.now() / 1000))
    const monitor = monitorOf(fleet, [], [])
    expect(await monitor.check(AbortSignal.timeout(5_000))).toBe('not-leader')
  })
})

describe('no timer outlives stop()', () => {
  it('the lock heartbeat and both monitors leave no Timeout behind', async () => {
    const fleet = await app()
    await initializeMigrationState({ store: fleet.store, config: 'compatibleWith2x', workerId: 'w1' })
    const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length
    await sleep(50)
    const baseline = timers()
    const leader = new DynamoDbLeaderLock({
      dynamodb,
      table: fleet.layout.leaderLock,
      workerId: 'w1',
      leaseDurationMillis: 1_000,
      heartbeatPeriodMillis: 100,
      timeoutMs: 2_000,
    })
    leader.start()
    const change = new ClientVersionChangeMonitor({
      store: fleet.store,
      current: 'CLIENT_VERSION_UPGRADE_FROM_2X',
      onChange: () => {},
      intervalMs: 50,
      initialDelayMs: 0,
    })
    const ready = new MigrationReadyMonitor({
      store: fleet.store,
      leaderDecider: leader,
      workerMetrics: metricsOf(fleet.layout),
      listLeases: (signal) => new LeaseStore(dynamodb, fleet.name, 2_000).listLeases(signal),
      isLeaseOwnerIndexActive: (signal) => isLeaseOwnerIndexActive(dynamodb, fleet.name, 2_000, signal),
      workerId: 'w1',
      onFlipped: () => {},
      intervalMs: 50,
      stabilizationMs: 60_000,
    })
    change.start()
    ready.start()
    expect(await leader.isLeader(AbortSignal.timeout(5_000))).toBe(true)
    await sleep(500)
    expect(timers()).toBeGreaterThan(baseline)
    await Promise.all([change.stop(), ready.stop(), leader.stop()])
    await sleep(20)
    expect(timers()).toBeLessThanOrEqual(baseline)
  })
})

import { GetItemCommand } from '@aws-sdk/client-dynamodb'
import { ConfigurationError } from '@kinesis-ts/shared'
import { afterAll, describe, expect, it } from 'vitest'
import { resolveCoordinatorLayout } from '../../packages/consumer/src/kcl3/coordinator-layout.js'
import { CoordinatorStateStore } from '../../packages/consumer/src/kcl3/coordinator-state-store.js'
import { ensureLeaseTable } from '../../packages/consumer/src/leases/lease-table.js'
import { dynamoDBClient, uniqueName } from '../support/aws.js'
import { javaCreateLegacyWorkerMetricsTable } from './support/java-writes-metrics.js'
import { createCoordinatorStateTableAsJava34, createTableMigrationStateAsJava35 } from './support/java-writes.js'

const dynamodb = dynamoDBClient()
afterAll(() => dynamodb.destroy())

async function app({ legacy }: { legacy: boolean }) {
  const applicationName = uniqueName('kcl3-app')
  await ensureLeaseTable(dynamodb, applicationName, AbortSignal.timeout(30_000))
  if (legacy) {
    await createCoordinatorStateTableAsJava34(dynamodb, applicationName)
    await javaCreateLegacyWorkerMetricsTable(dynamodb, `${applicationName}-WorkerMetricStats`)
  }
  return applicationName
}

const resolve = (applicationName: string, migrateAllEntitiesToLeaseTable = false) =>
  resolveCoordinatorLayout({
    dynamodb,
    applicationName,
    leaseTableName: applicationName,
    migrateAllEntitiesToLeaseTable,
    timeoutMs: 5_000,
  })

describe('resolveCoordinatorLayout against dynalite (kcl3-protocol §1)', () => {
  it('an app without <app>-CoordinatorState uses the single-table layout', async () => {
    const name = await app({ legacy: false })
    const layout = await resolve(name)
    expect(layout.kind).toBe('single')
    expect(layout.leaderLock).toEqual({ tableName: name, keyAttribute: 'leaseKey', sharedWithLeases: true })
    expect(layout.coordinatorStateRead).toHaveLength(1)
  })

  it('an app started on 3.4 (side tables, no TableMigration3.5) writes to the legacy tables, lock there too', async () => {
    const name = await app({ legacy: true })
    const layout = await resolve(name)
    expect(layout).toMatchObject({
      kind: 'legacy',
      tableMigrationStatus: 'INIT',
      coordinatorStateWrite: { tableName: `${name}-CoordinatorState`, keyAttribute: 'key' },
      leaderLock: { tableName: `${name}-CoordinatorState`, keyAttribute: 'key' },
      workerMetricsWrite: { tableName: `${name}-WorkerMetricStats`, keyAttribute: 'wid' },
    })
    expect(layout.coordinatorStateRead.map((table) => table.tableName)).toEqual([`${name}-CoordinatorState`, name])
  })

  it('maps the stored status with migrateAllEntitiesToLeaseTable', async () => {
    const name = await app({ legacy: true })
    await createTableMigrationStateAsJava35(dynamodb, name, 'TABLE_MIGRATION_STATUS_DEPLOYED')
    expect((await resolve(name)).tableMigrationStatus).toBe('DEPLOYED')
    const pending = await resolve(name, true)
    expect(pending.tableMigrationStatus).toBe('PENDING')
    expect(pending.coordinatorStateWrite.tableName).toBe(name)
    expect(pending.leaderLock.tableName).toBe(`${name}-CoordinatorState`)
  })

  it('COMPLETE: the lease table only, although the side tables are still there', async () => {
    const name = await app({ legacy: true })
    await createTableMigrationStateAsJava35(dynamodb, name, 'TABLE_MIGRATION_STATUS_COMPLETE')
    const layout = await resolve(name)
    expect(layout).toMatchObject({ kind: 'single', tableMigrationStatus: 'COMPLETE' })
    expect(layout.leaderLock.tableName).toBe(name)
  })

  it('refuses phase 2 on a legacy app whose phase 1 never ran, and an unknown status, saying what it found', async () => {
    const name = await app({ legacy: true })
    const phase2 = await resolve(name, true).catch((error: unknown) => error)
    expect(phase2).toBeInstanceOf(ConfigurationError)
    expect((phase2 as Error).message).toContain(`${name}-CoordinatorState holds no TableMigration3.5 item`)

    const other = await app({ legacy: true })
    await createTableMigrationStateAsJava35(dynamodb, other, 'TABLE_MIGRATION_STATUS_SOMETHING_NEW')
    await expect(resolve(other)).rejects.toThrow(/received "TABLE_MIGRATION_STATUS_SOMETHING_NEW"/)
  })
})

describe('CoordinatorStateStore across a legacy layout', () => {
  it('creates in the write table with its key attribute and entityType, once; updates only on the expected value', async () => {
    const name = await app({ legacy: true })
    const store = new CoordinatorStateStore(dynamodb, await resolve(name), 5_000)
    expect(await store.create('Migration3.0', 'CLIENT_VERSION_MIGRATION', { cv: { S: 'CLIENT_VERSION_2X' } })).toBe(
      true,
    )
    expect(await store.create('Migration3.0', 'CLIENT_VERSION_MIGRATION', { cv: { S: 'CLIENT_VERSION_3X' } })).toBe(
      false,
    )
    const { Item } = await dynamodb.send(
      new GetItemCommand({ TableName: `${name}-CoordinatorState`, Key: { key: { S: 'Migration3.0' } } }),
    )
    expect(Item).toEqual({
      key: { S: 'Migration3.0' },
      cv: { S: 'CLIENT_VERSION_2X' },
      entityType: { S: 'CLIENT_VERSION_MIGRATION' },
    })

    const wrongExpectation = { cv: { S: 'CLIENT_VERSION_3X' } }
    expect(await store.update('Migration3.0', 'CLIENT_VERSION_MIGRATION', { cv: { S: 'X' } }, wrongExpectation)).toBe(
      false,
    )
    const right = { cv: { S: 'CLIENT_VERSION_2X' } }
    expect(
      await store.update(
        'Migration3.0',
        'CLIENT_VERSION_MIGRATION',
        { cv: { S: 'CLIENT_VERSION_UPGRADE_FROM_2X' } },
        right,
      ),
    ).toBe(true)
    const read = await store.get('Migration3.0')
    expect(read?.table.tableName).toBe(`${name}-CoordinatorState`)
    expect(read?.attributes.cv).toEqual({ S: 'CLIENT_VERSION_UPGRADE_FROM_2X' })
    expect(read?.attributes).not.toHaveProperty('key')
    // An update never creates: the key must exist.
    expect(await store.update('Nothing', 'CLIENT_VERSION_MIGRATION', { cv: { S: 'X' } }, {})).toBe(false)
  })

  it('reads legacy first, then the lease table', async () => {
    const name = await app({ legacy: true })
    const store = new CoordinatorStateStore(dynamodb, await resolve(name), 5_000)
    const single = new CoordinatorStateStore(dynamodb, await resolve(await app({ legacy: false })), 5_000)
    // Write the same key into the lease table of this app (as a PENDING worker would).
    const pendingLayout = { ...store.layout, coordinatorStateWrite: store.layout.coordinatorStateRead[1]! }
    const pending = new CoordinatorStateStore(dynamodb, pendingLayout, 5_000)
    await pending.create('Migration3.0', 'CLIENT_VERSION_MIGRATION', { cv: { S: 'CLIENT_VERSION_3X' } })
    expect((await store.get('Migration3.0'))?.table.tableName).toBe(name)
    await store.create('Migration3.0', 'CLIENT_VERSION_MIGRATION', { cv: { S: 'CLIENT_VERSION_2X' } })
    const merged = await store.get('Migration3.0')
    expect(merged?.table.tableName).toBe(`${name}-CoordinatorState`)
    expect(merged?.attributes.cv).toEqual({ S: 'CLIENT_VERSION_2X' })
    expect(await single.get('Migration3.0')).toBeUndefined()
  })
})

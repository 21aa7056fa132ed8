import { ConfigurationError } from '@kinesis-ts/shared'
import { describe, expect, it } from 'vitest'
import { coordinatorLayoutFor, tableMigrationStatusFor } from './coordinator-layout.js'

const LEGACY = 'app-CoordinatorState'

describe('tableMigrationStatusFor (Java determineStatusForInitialization)', () => {
  it.each([
    [undefined, false, 'INIT'],
    ['TABLE_MIGRATION_STATUS_INIT', false, 'INIT'],
    ['TABLE_MIGRATION_STATUS_DEPLOYED', false, 'DEPLOYED'],
    ['TABLE_MIGRATION_STATUS_PENDING', false, 'DEPLOYED'],
    ['TABLE_MIGRATION_STATUS_DEPLOYED', true, 'PENDING'],
    ['TABLE_MIGRATION_STATUS_PENDING', true, 'PENDING'],
    ['TABLE_MIGRATION_STATUS_COMPLETE', false, 'COMPLETE'],
    ['TABLE_MIGRATION_STATUS_COMPLETE', true, 'COMPLETE'],
  ] as const)('tm %s, migrateAll %s → %s', (tm, migrateAll, expected) => {
    expect(tableMigrationStatusFor(tm, migrateAll, LEGACY)).toBe(expected)
  })

  it('refuses phase 2 before phase 1 reached DEPLOYED, saying what was found', () => {
    for (const tm of [undefined, 'TABLE_MIGRATION_STATUS_INIT']) {
      const error = (() => {
        try {
          tableMigrationStatusFor(tm, true, LEGACY)
        } catch (caught) {
          return caught
        }
      })()
      expect(error).toBeInstanceOf(ConfigurationError)
      expect((error as ConfigurationError).option).toBe('migrateAllEntitiesToLeaseTable')
      expect((error as Error).message).toContain(LEGACY)
      expect((error as Error).message).toContain(
        tm === undefined ? 'no TableMigration3.5 item' : 'TABLE_MIGRATION_STATUS_INIT',
      )
    }
  })

  it('refuses a status it does not know, naming it', () => {
    expect(() => tableMigrationStatusFor('TABLE_MIGRATION_STATUS_FUTURE', false, LEGACY)).toThrow(
      /TableMigration3\.5.*received "TABLE_MIGRATION_STATUS_FUTURE"/,
    )
  })
})

describe('coordinatorLayoutFor', () => {
  const names = { applicationName: 'app', leaseTableName: 'leases' }
  const lease = { tableName: 'leases', keyAttribute: 'leaseKey', sharedWithLeases: true }
  const coordinator = { tableName: 'app-CoordinatorState', keyAttribute: 'key', sharedWithLeases: false }
  const metrics = { tableName: 'app-WorkerMetricStats', keyAttribute: 'wid', sharedWithLeases: false }

  it('no legacy table: everything in the lease table', () => {
    expect(coordinatorLayoutFor(names, false, 'COMPLETE')).toEqual({
      kind: 'single',
      tableMigrationStatus: 'COMPLETE',
      coordinatorStateWrite: lease,
      coordinatorStateRead: [lease],
      leaderLock: lease,
      workerMetricsWrite: lease,
      workerMetricsRead: [lease],
    })
  })

  it('INIT and DEPLOYED write to the legacy tables; reads merge, legacy first; lock in the legacy table', () => {
    for (const status of ['INIT', 'DEPLOYED'] as const) {
      expect(coordinatorLayoutFor(names, true, status)).toEqual({
        kind: 'legacy',
        tableMigrationStatus: status,
        coordinatorStateWrite: coordinator,
        coordinatorStateRead: [coordinator, lease],
        leaderLock: coordinator,
        workerMetricsWrite: metrics,
        workerMetricsRead: [metrics, lease],
      })
    }
  })

  it('PENDING writes to the lease table but keeps the lock and merged reads of the legacy layout', () => {
    const layout = coordinatorLayoutFor(names, true, 'PENDING')
    expect(layout).toMatchObject({
      kind: 'legacy',
      coordinatorStateWrite: lease,
      workerMetricsWrite: lease,
      leaderLock: coordinator,
      coordinatorStateRead: [coordinator, lease],
    })
  })

  it('COMPLETE with the legacy table still there: the lease table only', () => {
    expect(coordinatorLayoutFor(names, true, 'COMPLETE')).toEqual(coordinatorLayoutFor(names, false, 'COMPLETE'))
  })
})

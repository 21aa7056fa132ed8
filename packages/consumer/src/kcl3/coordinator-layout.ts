import {
  DescribeTableCommand,
  type DescribeTableCommandOutput,
  type DynamoDBClient,
  GetItemCommand,
  type GetItemCommandOutput,
} from '@aws-sdk/client-dynamodb'
import { ConfigurationError } from '@kinesis-ts/shared'
import type { CoordinatorLayout, ItemTable, TableMigrationStatus } from './contracts.js'
import { boundedSend, s, str } from './dynamo-calls.js'

/*
 * Java KCL 3.5 keeps coordinator state (leader lock, migration state) and worker metrics either in the
 * lease table (every app started on 3.5) or in two side tables that 3.0–3.4 created. Which one is
 * decided once at start-up, exactly as TableMigrationStateMachineImpl.determineStatusForInitialization
 * does, so a TypeScript worker reads and writes where the Java workers of the same application do.
 */

/** The legacy side tables' names (Java DdbTableConfig: `<applicationName>-` + suffix). */
export const coordinatorStateTableName = (applicationName: string) => `${applicationName}-CoordinatorState`
export const workerMetricStatsTableName = (applicationName: string) => `${applicationName}-WorkerMetricStats`

/** Key of the 3.4 → 3.5 table-migration item in the legacy coordinator table, and its status attribute. */
export const TABLE_MIGRATION_KEY = 'TableMigration3.5'
export const TABLE_MIGRATION_STATUS_ATTRIBUTE = 'tm'

const STORED_STATUS: Readonly<Record<string, TableMigrationStatus>> = {
  TABLE_MIGRATION_STATUS_INIT: 'INIT',
  TABLE_MIGRATION_STATUS_DEPLOYED: 'DEPLOYED',
  TABLE_MIGRATION_STATUS_PENDING: 'PENDING',
  TABLE_MIGRATION_STATUS_COMPLETE: 'COMPLETE',
}

/**
 * The local status from the stored `tm` (undefined: no `TableMigration3.5` item) and this worker's
 * `migrateAllEntitiesToLeaseTable`: Java's override table. Refuses what Java refuses (phase 2 of the
 * table migration deployed before phase 1 finished) and a status it does not know, saying what was found.
 */
export function tableMigrationStatusFor(
  storedTm: string | undefined,
  migrateAllEntitiesToLeaseTable: boolean,
  legacyTableName: string,
): TableMigrationStatus {
  if (storedTm !== undefined && !Object.hasOwn(STORED_STATUS, storedTm)) {
    throw new ConfigurationError(
      'applicationName',
      `an application whose ${legacyTableName} item ${TABLE_MIGRATION_KEY} has ${TABLE_MIGRATION_STATUS_ATTRIBUTE} one of ${Object.keys(STORED_STATUS).join(', ')}`,
      storedTm,
    )
  }
  const stored = storedTm === undefined ? undefined : STORED_STATUS[storedTm]
  if (stored === 'COMPLETE') return 'COMPLETE'
  if (stored === undefined || stored === 'INIT') {
    if (migrateAllEntitiesToLeaseTable) {
      throw new ConfigurationError(
        'migrateAllEntitiesToLeaseTable',
        `false while ${legacyTableName} holds ${stored === undefined ? `no ${TABLE_MIGRATION_KEY} item` : `${TABLE_MIGRATION_KEY} at TABLE_MIGRATION_STATUS_INIT`} (phase 1 of the KCL 3.4 → 3.5 table migration has not reached DEPLOYED)`,
        true,
      )
    }
    return 'INIT'
  }
  // DEPLOYED or PENDING: this worker's phase decides (a phase-1 worker seeing PENDING is a rollback).
  return migrateAllEntitiesToLeaseTable ? 'PENDING' : 'DEPLOYED'
}

export interface LayoutTableNames {
  readonly applicationName: string
  readonly leaseTableName: string
}

/**
 * The tables for a local status. `legacyTablesFound` false means the single-table layout. Once the
 * migration is COMPLETE everything is in the lease table, so that layout is reported as 'single' too.
 */
export function coordinatorLayoutFor(
  names: LayoutTableNames,
  legacyTablesFound: boolean,
  status: TableMigrationStatus,
): CoordinatorLayout {
  const leaseTable: ItemTable = { tableName: names.leaseTableName, keyAttribute: 'leaseKey', sharedWithLeases: true }
  if (!legacyTablesFound || status === 'COMPLETE') {
    return {
      kind: 'single',
      tableMigrationStatus: 'COMPLETE',
      coordinatorStateWrite: leaseTable,
      coordinatorStateRead: [leaseTable],
      leaderLock: leaseTable,
      workerMetricsWrite: leaseTable,
      workerMetricsRead: [leaseTable],
    }
  }
  const coordinatorTable: ItemTable = {
    tableName: coordinatorStateTableName(names.applicationName),
    keyAttribute: 'key',
    sharedWithLeases: false,
  }
  const metricsTable: ItemTable = {
    tableName: workerMetricStatsTableName(names.applicationName),
    keyAttribute: 'wid',
    sharedWithLeases: false,
  }
  // INIT/DEPLOYED write where 3.4 workers read; PENDING already writes to the lease table. Reads merge
  // both (legacy first) and the lock stays in the legacy table until COMPLETE, so 3.4, 3.5-phase-1 and
  // 3.5-phase-2 workers all contend for the same lock item.
  const writesLegacy = status === 'INIT' || status === 'DEPLOYED'
  return {
    kind: 'legacy',
    tableMigrationStatus: status,
    coordinatorStateWrite: writesLegacy ? coordinatorTable : leaseTable,
    coordinatorStateRead: [coordinatorTable, leaseTable],
    leaderLock: coordinatorTable,
    workerMetricsWrite: writesLegacy ? metricsTable : leaseTable,
    workerMetricsRead: [metricsTable, leaseTable],
  }
}

export interface ResolveCoordinatorLayoutOptions {
  readonly dynamodb: DynamoDBClient
  readonly applicationName: string
  readonly leaseTableName: string
  /** The Java CoordinatorConfig option (default false): phase 2 of the 3.4 → 3.5 table migration. */
  readonly migrateAllEntitiesToLeaseTable: boolean
  readonly signal?: AbortSignal | undefined
  /** Bounds each DynamoDB call (0: none). */
  readonly timeoutMs: number
}

/** DescribeTable `<app>-CoordinatorState`: absent → single table; present → its `TableMigration3.5` decides. */
export async function resolveCoordinatorLayout(options: ResolveCoordinatorLayoutOptions): Promise<CoordinatorLayout> {
  const { dynamodb, applicationName, leaseTableName, signal, timeoutMs } = options
  const legacyTableName = coordinatorStateTableName(applicationName)
  const names = { applicationName, leaseTableName }
  if (!(await tableExists(dynamodb, legacyTableName, timeoutMs, signal)))
    return coordinatorLayoutFor(names, false, 'COMPLETE')
  const { Item } = await boundedSend<GetItemCommandOutput>(
    dynamodb,
    'GetItem',
    new GetItemCommand({ TableName: legacyTableName, Key: { key: s(TABLE_MIGRATION_KEY) }, ConsistentRead: true }),
    timeoutMs,
    signal,
  )
  // An item without `tm` is a status this worker does not know (Java fails to deserialize it): refused.
  const storedTm = Item === undefined ? undefined : (str(Item, TABLE_MIGRATION_STATUS_ATTRIBUTE) ?? '(no tm attribute)')
  const status = tableMigrationStatusFor(storedTm, options.migrateAllEntitiesToLeaseTable, legacyTableName)
  return coordinatorLayoutFor(names, true, status)
}

async function tableExists(
  dynamodb: DynamoDBClient,
  tableName: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  try {
    await boundedSend<DescribeTableCommandOutput>(
      dynamodb,
      'DescribeTable',
      new DescribeTableCommand({ TableName: tableName }),
      timeoutMs,
      signal,
    )
    return true
  } catch (error) {
    if ((error as { awsCode?: unknown }).awsCode === 'ResourceNotFoundException') return false
    throw error
  }
}

import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import type { ItemTable, LeaderDecider } from '../../../packages/consumer/src/kcl3/contracts.js'
import {
  LeaseAssignmentManager,
  type LeaseAssignmentManagerOptions,
} from '../../../packages/consumer/src/kcl3/lease-assignment-manager.js'
import { WorkerMetricStatsStore } from '../../../packages/consumer/src/kcl3/worker-metric-stats-store.js'
import { LeaseStore } from '../../../packages/consumer/src/leases/lease-store.js'
import { ensureLeaseTable } from '../../../packages/consumer/src/leases/lease-table.js'
import { newLease } from '../../../packages/consumer/src/leases/lease.js'
import { uniqueName } from '../../support/aws.js'

/*
 * The setup the LeaseAssignmentManager test files share: a fresh lease table with unowned leases,
 * the worker metrics in the same table (as Java's 3.x layout), and a manager over them at test timings.
 */

const TRIM = { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 }

export interface AssignmentTable {
  readonly tableName: string
  readonly table: ItemTable
  readonly leases: LeaseStore
  readonly metrics: WorkerMetricStatsStore
}

/** A new lease table (`prefix` names it) holding one unowned lease per key, from TRIM_HORIZON. */
export async function assignmentTable(
  dynamodb: DynamoDBClient,
  prefix: string,
  keys: readonly string[],
): Promise<AssignmentTable> {
  const tableName = uniqueName(prefix)
  await ensureLeaseTable(dynamodb, tableName, AbortSignal.timeout(30_000))
  const table: ItemTable = { tableName, keyAttribute: 'leaseKey', sharedWithLeases: true }
  const leases = new LeaseStore(dynamodb, tableName, 5_000)
  for (const key of keys) await leases.createLeaseIfNotExists(newLease(key, TRIM, [], undefined))
  const metrics = new WorkerMetricStatsStore({
    client: dynamodb,
    writeTable: table,
    readTables: [table],
    timeoutMs: 5_000,
  })
  return { tableName, table, leases, metrics }
}

/** A manager over `on`, its full runs every 2 × failover and its expiry watch every 100 ms, unless `options` say otherwise. */
export function assignmentManager(
  on: AssignmentTable,
  leader: LeaderDecider,
  failoverTimeMillis: number,
  options: Partial<LeaseAssignmentManagerOptions> = {},
): LeaseAssignmentManager {
  return new LeaseAssignmentManager({
    leaseStore: on.leases,
    metricsStore: on.metrics,
    workerMetricsTables: [on.table],
    leader,
    failoverTimeMillis,
    leaseAssignmentIntervalMillis: 2 * failoverTimeMillis,
    leaseExpiryWatchIntervalMillis: 100,
    workerMetricsReporterFreqInMillis: 30_000,
    onError: () => {},
    ...options,
  })
}

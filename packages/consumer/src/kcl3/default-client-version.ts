import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { CONSUMER_DEFAULTS as D } from '../defaults.js'
import { LeaseStore } from '../leases/lease-store.js'
import type { CoordinatorStateStore } from './coordinator-state-store.js'
import { leaseOwnerIndexStatus } from './lease-owner-index.js'
import { type ClientVersionConfig, readMigrationState } from './migration-state.js'

/** Why the default options chose what they chose (logged at start-up, asserted by the tests). */
export type DefaultChoiceReason =
  | 'migration-state'
  | 'lease-owner-index'
  | 'kcl2-table'
  | 'leases-without-migration-state'

export interface DefaultClientVersionChoice {
  readonly config: ClientVersionConfig
  readonly reason: DefaultChoiceReason
}

export interface DefaultClientVersionOptions {
  readonly dynamodb: DynamoDBClient
  readonly leaseTableName: string
  /** The coordinator state of the layout already resolved (lease table or the 3.0–3.4 side table). */
  readonly coordinatorState: CoordinatorStateStore
  readonly timeoutMs: number
  readonly signal?: AbortSignal | undefined
}

/**
 * The `clientVersionConfig` a worker runs when none is given, decided at start() after the lease table
 * exists (created with the index when it was missing):
 *
 * - a `Migration3.0` item → Java's default, '3x': the stored version wins (a `3X_WITH_ROLLBACK` is
 *   finished to `3X`), exactly as a Java 3.x worker with default options follows it;
 * - no item, the `LeaseOwnerToLeaseKeyIndex`, no lease yet (a table just created by this worker or a
 *   Java 3.x worker) → '3x';
 * - no item, the index and leases → 'compatibleWith2xPhase1': a 2.x fleet of an earlier kinesis-ts, which
 *   made the index for its handoffs. A Java 3.x worker writes the item before any lease exists, so leases
 *   without it were made by 2.x workers still taking and stealing, which a 3.x leader must not run beside;
 * - neither item nor index (a Java KCL 2.x table) → 'compatibleWith2xPhase1': the 2.x protocol, writing
 *   nothing of 3.x.
 *
 * Java 3.x with default options on that last table writes `CLIENT_VERSION_3X`, adds the index by
 * UpdateTable, waits for it and runs the leader-based assignment — beside 2.x workers still taking and
 * stealing, which is why AWS tells 2.x fleets to deploy compatibleWith2x first. Here the table's shape
 * decides instead, so a 2.x fleet keeps working when a kinesis-ts worker joins it with default options
 * (and dynalite, which refuses the UpdateTable, keeps serving it); it moves to 3.x only by an explicit
 * 'compatibleWith2x' migration (README "Migrating / KCL 3.x").
 */
export async function defaultClientVersionConfig(
  options: DefaultClientVersionOptions,
): Promise<DefaultClientVersionChoice> {
  const { dynamodb, leaseTableName, coordinatorState, timeoutMs, signal } = options
  // An unknown `cv` is refused here, with what was found, as for an explicit config.
  if ((await readMigrationState(coordinatorState, signal)) !== undefined) {
    return { config: D.clientVersionConfig, reason: 'migration-state' }
  }
  const index = await leaseOwnerIndexStatus(dynamodb, leaseTableName, timeoutMs, signal)
  // Any status: an index still being built is a 3.x table being created, or a migration under way.
  if (index === 'MISSING') return { config: 'compatibleWith2xPhase1', reason: 'kcl2-table' }
  // The lease store's one paginated Scan; once, at start-up, on a table that has the index but no state.
  if ((await new LeaseStore(dynamodb, leaseTableName, timeoutMs).listLeases(signal)).length > 0) {
    return { config: 'compatibleWith2xPhase1', reason: 'leases-without-migration-state' }
  }
  return { config: D.clientVersionConfig, reason: 'lease-owner-index' }
}

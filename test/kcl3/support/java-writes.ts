/*
 * Tables and items written exactly as the Java KCL 3.x code (and its tools) write them, so the tests
 * prove a TypeScript worker reads what Java wrote and Java would read what we write. Each helper names
 * the Java source it mirrors (awslabs/amazon-kinesis-client, `J/` = amazon-kinesis-client/src/main/java/
 * software/amazon/kinesis/; LC = awslabs/amazon-dynamodb-lock-client 1.4.0). Facts carry over, code does not.
 *
 * Part A (coordinator state, leader lock, migration state) keeps its helpers together at the top;
 * WorkerMetricStats items and lease renewals are in java-writes-metrics.ts.
 */
import { randomUUID } from 'node:crypto'
import {
  type AttributeValue,
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb'
import { sleep } from '@kinesis-ts/shared'

// ---------------------------------------------------------------------------------------------
// Part A: coordinator state tables, the leader lock, the migration items
// ---------------------------------------------------------------------------------------------

/** Where a coordinator item lives: the lease table (`leaseKey`) or `<app>-CoordinatorState` (`key`). */
export interface JavaItemTable {
  readonly tableName: string
  readonly keyAttribute: string
}

async function waitActive(dynamodb: DynamoDBClient, tableName: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: tableName }))
    if (Table?.TableStatus === 'ACTIVE') return
    await sleep(25)
  }
  throw new Error(`${tableName} did not become ACTIVE`)
}

/**
 * The side table a KCL 3.0–3.4 app created: `<app>-CoordinatorState`, hash key `key` S, PAY_PER_REQUEST
 * (v3.4.3 J/coordinator/CoordinatorStateDAO.java createTableIfNotExists; name from J/common/DdbTableConfig.java).
 */
export async function createCoordinatorStateTableAsJava34(dynamodb: DynamoDBClient, applicationName: string) {
  const tableName = `${applicationName}-CoordinatorState`
  await dynamodb.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [{ AttributeName: 'key', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'key', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  )
  await waitActive(dynamodb, tableName)
  return { tableName, keyAttribute: 'key' } satisfies JavaItemTable
}

/**
 * The `TableMigration3.5` item the 3.5 leader writes in the legacy coordinator table: `tm`, `mb`, `mts` (ms),
 * entityType TABLE_MIGRATION; created with the legacy API, Expected key Exists=false
 * (J/coordinator/migration/TableMigrationState.java, J/coordinator/delegate/CoordinatorStateDAODelegate.java).
 * `tm` is written as given, so a test can also store a status this worker does not know.
 */
export async function createTableMigrationStateAsJava35(
  dynamodb: DynamoDBClient,
  applicationName: string,
  tm: string,
  leaderId = 'java-leader',
) {
  await dynamodb.send(
    new PutItemCommand({
      TableName: `${applicationName}-CoordinatorState`,
      Item: {
        key: { S: 'TableMigration3.5' },
        tm: { S: tm },
        mb: { S: leaderId },
        mts: { N: String(Date.now()) },
        entityType: { S: 'TABLE_MIGRATION' },
      },
      Expected: { key: { Exists: false } },
    }),
  )
}

/** What the lock client wrote: the version a later heartbeat or takeover must name. */
export interface JavaLockWrite {
  readonly recordVersionNumber: string
}

/**
 * A Java worker acquiring a missing leader lock: PutItem of `Leader` with ownerName, leaseDuration
 * (ms as a decimal string), a random recordVersionNumber and KCL's extra attribute entityType LEADER,
 * condition `attribute_not_exists(#PK)` (LC/AmazonDynamoDBLockClient.java upsertAndMonitorNewLock with
 * J/leader/DynamoDBLockBasedLeaderDecider.java's options; no `data`, no `isReleased`).
 */
export async function acquireLeaderLockAsJava(
  dynamodb: DynamoDBClient,
  table: JavaItemTable,
  ownerName: string,
  leaseDurationMillis: number,
): Promise<JavaLockWrite> {
  const recordVersionNumber = randomUUID()
  await dynamodb.send(
    new PutItemCommand({
      TableName: table.tableName,
      Item: {
        [table.keyAttribute]: { S: 'Leader' },
        ownerName: { S: ownerName },
        leaseDuration: { S: String(leaseDurationMillis) },
        recordVersionNumber: { S: recordVersionNumber },
        entityType: { S: 'LEADER' },
      },
      ConditionExpression: 'attribute_not_exists(#PK)',
      ExpressionAttributeNames: { '#PK': table.keyAttribute },
    }),
  )
  return { recordVersionNumber }
}

/**
 * The lock client's background heartbeat: `SET leaseDuration, recordVersionNumber = <new>` if the key
 * exists, the RVN is ours and ownerName is us (LC/AmazonDynamoDBLockClient.java sendHeartbeat).
 */
export async function heartbeatLeaderLockAsJava(
  dynamodb: DynamoDBClient,
  table: JavaItemTable,
  ownerName: string,
  held: JavaLockWrite,
  leaseDurationMillis: number,
): Promise<JavaLockWrite> {
  const recordVersionNumber = randomUUID()
  await dynamodb.send(
    new UpdateItemCommand({
      TableName: table.tableName,
      Key: { [table.keyAttribute]: { S: 'Leader' } },
      UpdateExpression: 'SET #ld = :ld, #rvn = :newRvn',
      ConditionExpression: 'attribute_exists(#PK) AND #on = :on AND #rvn = :rvn',
      ExpressionAttributeNames: {
        '#PK': table.keyAttribute,
        '#ld': 'leaseDuration',
        '#rvn': 'recordVersionNumber',
        '#on': 'ownerName',
      },
      ExpressionAttributeValues: {
        ':ld': { S: String(leaseDurationMillis) },
        ':newRvn': { S: recordVersionNumber },
        ':rvn': { S: held.recordVersionNumber },
        ':on': { S: ownerName },
      },
    }),
  )
  return { recordVersionNumber }
}

/**
 * A Java worker taking over a lock it saw unchanged for longer than its stored leaseDuration: PutItem of
 * the whole item under its name, condition `attribute_exists(#PK) AND #rvn = :rvn` with the version it
 * observed (LC/AmazonDynamoDBLockClient.java acquireLock → upsertAndMonitorExpiredLock).
 */
export async function takeOverLeaderLockAsJava(
  dynamodb: DynamoDBClient,
  table: JavaItemTable,
  ownerName: string,
  observedRecordVersionNumber: string,
  leaseDurationMillis: number,
): Promise<JavaLockWrite> {
  const recordVersionNumber = randomUUID()
  await dynamodb.send(
    new PutItemCommand({
      TableName: table.tableName,
      Item: {
        [table.keyAttribute]: { S: 'Leader' },
        ownerName: { S: ownerName },
        leaseDuration: { S: String(leaseDurationMillis) },
        recordVersionNumber: { S: recordVersionNumber },
        entityType: { S: 'LEADER' },
      },
      ConditionExpression: 'attribute_exists(#PK) AND #rvn = :rvn',
      ExpressionAttributeNames: { '#PK': table.keyAttribute, '#rvn': 'recordVersionNumber' },
      ExpressionAttributeValues: { ':rvn': { S: observedRecordVersionNumber } },
    }),
  )
  return { recordVersionNumber }
}

type JavaClientVersion =
  | 'CLIENT_VERSION_UPGRADE_FROM_2X'
  | 'CLIENT_VERSION_2X'
  | 'CLIENT_VERSION_3X_WITH_ROLLBACK'
  | 'CLIENT_VERSION_3X'

/**
 * A Java worker creating `Migration3.0` at start-up: cv, mb, mts (ms) and `h` holding the INIT state it
 * was built from, entityType CLIENT_VERSION_MIGRATION; PutItem with Expected key Exists=false
 * (J/coordinator/migration/MigrationClientVersionStateInitializer.java updateMigrationStateInDynamo,
 * J/coordinator/migration/MigrationState.java serialize/update).
 */
export async function createMigrationStateAsJava(
  dynamodb: DynamoDBClient,
  table: JavaItemTable,
  cv: JavaClientVersion,
  workerId = 'java-worker',
  mts = Date.now(),
) {
  await dynamodb.send(
    new PutItemCommand({
      TableName: table.tableName,
      Item: {
        [table.keyAttribute]: { S: 'Migration3.0' },
        cv: { S: cv },
        mb: { S: workerId },
        mts: { N: String(mts) },
        h: { L: [{ M: { cv: { S: 'CLIENT_VERSION_INIT' }, mb: { S: workerId }, mts: { N: String(mts) } } }] },
        entityType: { S: 'CLIENT_VERSION_MIGRATION' },
      },
      Expected: { [table.keyAttribute]: { Exists: false } },
    }),
  )
}

function historyWithCurrent(item: Record<string, AttributeValue>): AttributeValue {
  const entry: AttributeValue = {
    M: {
      cv: { S: item.cv?.S ?? 'Unknown' },
      mb: { S: item.mb?.S ?? 'Unknown' },
      mts: { N: item.mts?.N ?? String(Date.now()) },
    },
  }
  return { L: [entry, ...(item.h?.L ?? [])].slice(0, 10) }
}

/**
 * `KclMigrationTool.py --mode rollback`: reads the item, pushes its current state on `h` (cap 10), then
 * `SET cv = CLIENT_VERSION_2X, mts, mb = KclMigrationTool-rollback, h` if `cv IN (UPGRADE_FROM_2X,
 * 3X_WITH_ROLLBACK)`, ReturnValues UPDATED_OLD (amazon-kinesis-client/scripts/KclMigrationTool.py
 * get_current_state, add_current_state_to_history, rollback_client_version). 3.5.1 runs it on the lease
 * table (`leaseKey`); earlier versions of the script on `<app>-CoordinatorState` (`key`). The later GSI
 * deletion (after 120 s) is not part of this write.
 */
export async function rollbackAsKclMigrationTool(
  dynamodb: DynamoDBClient,
  table: JavaItemTable,
  current: Record<string, AttributeValue>,
): Promise<void> {
  await dynamodb.send(
    new UpdateItemCommand({
      TableName: table.tableName,
      Key: { [table.keyAttribute]: { S: 'Migration3.0' } },
      UpdateExpression: 'SET cv = :rollback_client_version, mts = :updated_at, mb = :modifier, h = :history',
      ConditionExpression: 'cv IN (:upgrade_from_2x_client_version, :3x_with_rollback_client_version)',
      ExpressionAttributeValues: {
        ':rollback_client_version': { S: 'CLIENT_VERSION_2X' },
        ':updated_at': { N: String(Date.now()) },
        ':modifier': { S: 'KclMigrationTool-rollback' },
        ':history': historyWithCurrent(current),
        ':upgrade_from_2x_client_version': { S: 'CLIENT_VERSION_UPGRADE_FROM_2X' },
        ':3x_with_rollback_client_version': { S: 'CLIENT_VERSION_3X_WITH_ROLLBACK' },
      },
      ReturnValues: 'UPDATED_OLD',
    }),
  )
}

/**
 * `KclMigrationTool.py --mode rollforward`: reads the item, pushes its current state on `h` (cap 10),
 * then `SET cv = CLIENT_VERSION_UPGRADE_FROM_2X, mts, mb = KclMigrationTool-rollforward, h` if
 * `cv = CLIENT_VERSION_2X`, ReturnValues UPDATED_OLD (amazon-kinesis-client/scripts/KclMigrationTool.py
 * rollforward_client_version). Same table choice as the rollback above.
 */
export async function rollforwardAsKclMigrationTool(
  dynamodb: DynamoDBClient,
  table: JavaItemTable,
  current: Record<string, AttributeValue>,
): Promise<void> {
  await dynamodb.send(
    new UpdateItemCommand({
      TableName: table.tableName,
      Key: { [table.keyAttribute]: { S: 'Migration3.0' } },
      UpdateExpression: 'SET cv = :rollforward_client_version, mts = :updated_at, mb = :modifier, h = :history',
      ConditionExpression: 'cv = :rollback_client_version',
      ExpressionAttributeValues: {
        ':rollforward_client_version': { S: 'CLIENT_VERSION_UPGRADE_FROM_2X' },
        ':updated_at': { N: String(Date.now()) },
        ':modifier': { S: 'KclMigrationTool-rollforward' },
        ':history': historyWithCurrent(current),
        ':rollback_client_version': { S: 'CLIENT_VERSION_2X' },
      },
      ReturnValues: 'UPDATED_OLD',
    }),
  )
}

// ---------------------------------------------------------------------------------------------
// (Part C adds its fixtures below.)
// ---------------------------------------------------------------------------------------------

import { DeleteItemCommand, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb'
import { durationOption, notBelow } from '@kinesis-ts/shared'
import type { ItemTable } from './contracts.js'
import { type Item, s, str } from './dynamo-calls.js'

/*
 * The leader lock item and the four requests on it, with the attributes and conditions the DynamoDB
 * lock client 1.4.0 uses for Java KCL 3.x (kcl3-protocol §6), so Java and TypeScript workers contend
 * for one lock.
 */

export const LEADER_KEY = 'Leader'
export const LEADER_ATTRIBUTES = {
  ownerName: 'ownerName',
  leaseDuration: 'leaseDuration',
  recordVersionNumber: 'recordVersionNumber',
  entityType: 'entityType',
} as const
const A = LEADER_ATTRIBUTES
export const LEADER_ENTITY_TYPE = 'LEADER'

export const DEFAULT_LEADER_LEASE_DURATION_MS = 120_000
export const DEFAULT_LEADER_HEARTBEAT_PERIOD_MS = 30_000

export interface LeaderLockTiming {
  readonly leaseDurationMillis: number
  readonly heartbeatPeriodMillis: number
}

/** Validates the two Java options; the lock library refuses a duration below two heartbeats, and so do we. */
export function leaderLockTiming(options: {
  readonly dynamoDbLockBasedLeaderLeaseDurationInMillis?: unknown
  readonly dynamoDbLockBasedLeaderHeartbeatPeriodInMillis?: unknown
}): LeaderLockTiming {
  const heartbeatPeriodMillis = durationOption(
    'dynamoDbLockBasedLeaderHeartbeatPeriodInMillis',
    options.dynamoDbLockBasedLeaderHeartbeatPeriodInMillis,
    DEFAULT_LEADER_HEARTBEAT_PERIOD_MS,
    1,
  )
  const leaseDurationMillis = notBelow(
    'dynamoDbLockBasedLeaderLeaseDurationInMillis',
    durationOption(
      'dynamoDbLockBasedLeaderLeaseDurationInMillis',
      options.dynamoDbLockBasedLeaderLeaseDurationInMillis,
      DEFAULT_LEADER_LEASE_DURATION_MS,
      1,
    ),
    '2 × dynamoDbLockBasedLeaderHeartbeatPeriodInMillis',
    2 * heartbeatPeriodMillis,
  )
  return { leaseDurationMillis, heartbeatPeriodMillis }
}

/** The lock as the Java lock client stores it. */
export interface LeaderLockItem {
  readonly ownerName: string | undefined
  readonly leaseDurationMillis: number | undefined
  readonly recordVersionNumber: string | undefined
}

export function leaderLockFromItem(item: Item): LeaderLockItem {
  const duration = str(item, A.leaseDuration)
  const parsed = duration === undefined ? Number.NaN : Number(duration)
  return {
    ownerName: str(item, A.ownerName),
    leaseDurationMillis: Number.isFinite(parsed) && parsed >= 0 ? parsed : undefined,
    recordVersionNumber: str(item, A.recordVersionNumber),
  }
}

const key = (table: ItemTable): Item => ({ [table.keyAttribute]: s(LEADER_KEY) })

/** Consistent: a stale read could make a follower time a version that was already replaced. */
export const readLeaderLockCommand = (table: ItemTable) =>
  new GetItemCommand({ TableName: table.tableName, Key: key(table), ConsistentRead: true })

export interface LockWrite {
  readonly ownerName: string
  readonly leaseDurationMillis: number
  /** The new version this write sets. */
  readonly recordVersionNumber: string
}

/** The whole lock: if absent (`takeOverRvn` undefined), or over the dead version observed. */
export function putLeaderLockCommand(table: ItemTable, write: LockWrite, takeOverRvn: string | undefined) {
  return new PutItemCommand({
    TableName: table.tableName,
    Item: {
      ...key(table),
      [A.ownerName]: s(write.ownerName),
      [A.leaseDuration]: s(String(write.leaseDurationMillis)),
      [A.recordVersionNumber]: s(write.recordVersionNumber),
      [A.entityType]: s(LEADER_ENTITY_TYPE),
    },
    ...(takeOverRvn === undefined
      ? { ConditionExpression: 'attribute_not_exists(#key)', ExpressionAttributeNames: { '#key': table.keyAttribute } }
      : {
          ConditionExpression: 'attribute_exists(#key) AND #rvn = :rvn',
          ExpressionAttributeNames: { '#key': table.keyAttribute, '#rvn': A.recordVersionNumber },
          ExpressionAttributeValues: { ':rvn': s(takeOverRvn) },
        }),
  })
}

/** A heartbeat: a new version and the duration, only over our own version under our name. */
export function heartbeatLeaderLockCommand(table: ItemTable, write: LockWrite, heldRvn: string) {
  return new UpdateItemCommand({
    TableName: table.tableName,
    Key: key(table),
    UpdateExpression: 'SET #duration = :duration, #rvn = :newRvn',
    ConditionExpression: 'attribute_exists(#key) AND #rvn = :rvn AND #owner = :owner',
    ExpressionAttributeNames: {
      '#key': table.keyAttribute,
      '#duration': A.leaseDuration,
      '#rvn': A.recordVersionNumber,
      '#owner': A.ownerName,
    },
    ExpressionAttributeValues: {
      ':duration': s(String(write.leaseDurationMillis)),
      ':newRvn': s(write.recordVersionNumber),
      ':rvn': s(heldRvn),
      ':owner': s(write.ownerName),
    },
  })
}

/** The release: a delete of our own version under our name, never someone else's lock. */
export function releaseLeaderLockCommand(table: ItemTable, ownerName: string, heldRvn: string) {
  return new DeleteItemCommand({
    TableName: table.tableName,
    Key: key(table),
    ConditionExpression: 'attribute_exists(#key) AND #rvn = :rvn AND #owner = :owner',
    ExpressionAttributeNames: { '#key': table.keyAttribute, '#rvn': A.recordVersionNumber, '#owner': A.ownerName },
    ExpressionAttributeValues: { ':rvn': s(heldRvn), ':owner': s(ownerName) },
  })
}

import { DeleteItemCommand, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb'
import { durationOption, notBelow } from '@kinesis-ts/shared'
import type { ItemTable } from './contracts.js'
import { type Item, n, s, str } from './dynamo-calls.js'

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
  /**
   * kinesis-ts only: a TypeScript leader's promise to heartbeat well within this many ms (its
   * failoverTimeMillis), so TypeScript followers may take the lock over once its version stood still
   * that long. Java ignores it: its heartbeat (an UpdateItem) keeps it, its takeover (a PutItem of the
   * whole item) drops it, so a Java-held lock never carries it.
   */
  fastLeaseDuration: 'kinesisTsFastLeaseDurationMillis',
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

/** How one worker's lock runs, from the Java timing and the fast lease it may promise. */
export interface LeaderLockCadence {
  /** The fast lease written into the item; undefined when none is promised (the Java item exactly). */
  readonly fastLeaseMillis: number | undefined
  /** How long a confirmed write keeps us leader: never past what a follower waits before taking over. */
  readonly holdMillis: number
  readonly heartbeatEveryMillis: number
  /** How often a follower reads a lock that carries a fast lease. */
  readonly fastWatchMillis: number
}

/**
 * A fast lease only counts below the Java duration (it could not speed anything up otherwise). Three
 * heartbeats per fast lease, as leases are renewed: two may fail before followers may take over.
 */
export function leaderLockCadence(
  timing: LeaderLockTiming,
  fastLeaseDurationMillis: unknown,
  fastWatchIntervalMillis: unknown,
): LeaderLockCadence {
  const { leaseDurationMillis, heartbeatPeriodMillis } = timing
  // At least 3 ms, so a third of it (the heartbeat) is a whole millisecond.
  const fast =
    fastLeaseDurationMillis === undefined
      ? undefined
      : durationOption('failoverTimeMillis', fastLeaseDurationMillis, 0, 3)
  const fastLeaseMillis = fast !== undefined && fast < leaseDurationMillis ? fast : undefined
  const holdMillis = fastLeaseMillis ?? leaseDurationMillis
  return {
    fastLeaseMillis,
    holdMillis,
    heartbeatEveryMillis: Math.min(heartbeatPeriodMillis, Math.floor(holdMillis / 3)),
    fastWatchMillis:
      fastWatchIntervalMillis === undefined
        ? heartbeatPeriodMillis
        : durationOption('leaseExpiryWatchIntervalMillis', fastWatchIntervalMillis, heartbeatPeriodMillis, 1),
  }
}

/** The lock as the Java lock client stores it, and the fast duration a TypeScript leader adds. */
export interface LeaderLockItem {
  readonly ownerName: string | undefined
  readonly leaseDurationMillis: number | undefined
  readonly recordVersionNumber: string | undefined
  /** Present only on a version a TypeScript leader wrote (see LEADER_ATTRIBUTES.fastLeaseDuration). */
  readonly fastLeaseDurationMillis: number | undefined
}

const nonNegative = (text: string | undefined): number | undefined => {
  const parsed = text === undefined ? Number.NaN : Number(text)
  return Number.isFinite(parsed) && parsed >= 0 ? parsed : undefined
}

export function leaderLockFromItem(item: Item): LeaderLockItem {
  const fast = nonNegative(item[A.fastLeaseDuration]?.N)
  return {
    ownerName: str(item, A.ownerName),
    leaseDurationMillis: nonNegative(str(item, A.leaseDuration)),
    recordVersionNumber: str(item, A.recordVersionNumber),
    // Zero would let anyone take the lock at once: only a positive promise counts.
    fastLeaseDurationMillis: fast !== undefined && fast > 0 ? fast : undefined,
  }
}

const key = (table: ItemTable): Item => ({ [table.keyAttribute]: s(LEADER_KEY) })

/**
 * Consistent as the lock client reads, unless a follower only watches a fast lock: a stale answer can
 * only show an older version, which restarts its timing or fails the takeover's condition, never
 * shortens the wait.
 */
export const readLeaderLockCommand = (table: ItemTable, consistent = true) =>
  new GetItemCommand({ TableName: table.tableName, Key: key(table), ConsistentRead: consistent })

export interface LockWrite {
  readonly ownerName: string
  readonly leaseDurationMillis: number
  /** The new version this write sets. */
  readonly recordVersionNumber: string
  /** A TypeScript leader's fast duration; undefined writes exactly the Java item. */
  readonly fastLeaseDurationMillis?: number | undefined
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
      ...(write.fastLeaseDurationMillis === undefined
        ? {}
        : { [A.fastLeaseDuration]: n(write.fastLeaseDurationMillis) }),
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

/** A heartbeat: a new version and the duration(s), only over our own version under our name. */
export function heartbeatLeaderLockCommand(table: ItemTable, write: LockWrite, heldRvn: string) {
  const fast = write.fastLeaseDurationMillis
  return new UpdateItemCommand({
    TableName: table.tableName,
    Key: key(table),
    UpdateExpression: `SET #duration = :duration, #rvn = :newRvn${fast === undefined ? '' : ', #fast = :fast'}`,
    ConditionExpression: 'attribute_exists(#key) AND #rvn = :rvn AND #owner = :owner',
    ExpressionAttributeNames: {
      '#key': table.keyAttribute,
      '#duration': A.leaseDuration,
      '#rvn': A.recordVersionNumber,
      '#owner': A.ownerName,
      ...(fast === undefined ? {} : { '#fast': A.fastLeaseDuration }),
    },
    ExpressionAttributeValues: {
      ':duration': s(String(write.leaseDurationMillis)),
      ':newRvn': s(write.recordVersionNumber),
      ':rvn': s(heldRvn),
      ':owner': s(write.ownerName),
      ...(fast === undefined ? {} : { ':fast': n(fast) }),
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

import {
  type AttributeValue,
  type AttributeValueUpdate,
  ConditionalCheckFailedException,
  CreateTableCommand,
  type DynamoDBClient,
  type ExpectedAttributeValue,
  GetItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb'
import { sleep } from '@kinesis-ts/shared'

/*
 * The lease-table writes a Java KCL 3.5.1 fleet makes around a worker, written as Java writes them:
 * the legacy `Expected` / `AttributeUpdates` API, the same attributes and conditions. Sources named
 * per fixture (J/ = amazon-kinesis-client/src/main/java/software/amazon/kinesis/, tag v3.5.1), facts
 * from /work/shared/kcl3-protocol.md §2–5. Each answers false when Java's condition failed. Worker
 * metrics items: java-writes-metrics.ts.
 */

type Item = Record<string, AttributeValue>
const S = (value: string): AttributeValue => ({ S: value })
const N = (value: number): AttributeValue => ({ N: String(value) })

async function read(dynamodb: DynamoDBClient, table: string, leaseKey: string): Promise<Item | undefined> {
  // J/leases/dynamodb/DynamoDBLeaseRefresher.java getLease: GetItem (consistentReads in the 3.x worker paths).
  const { Item } = await dynamodb.send(
    new GetItemCommand({ TableName: table, Key: { leaseKey: S(leaseKey) }, ConsistentRead: true }),
  )
  return Item
}

/** "Expected: value as read, or Exists=false" — how the Java refresher guards owner fields. */
const asRead = (value: AttributeValue | undefined): ExpectedAttributeValue =>
  value === undefined ? { Exists: false } : { Value: value }

async function update(
  dynamodb: DynamoDBClient,
  table: string,
  leaseKey: string,
  attributeUpdates: Record<string, AttributeValueUpdate>,
  expected: Record<string, ExpectedAttributeValue>,
): Promise<boolean> {
  try {
    await dynamodb.send(
      new UpdateItemCommand({
        TableName: table,
        Key: { leaseKey: S(leaseKey) },
        AttributeUpdates: attributeUpdates,
        Expected: expected,
        ReturnValues: 'ALL_NEW',
      }),
    )
    return true
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException || (error as Error).name === 'ConditionalCheckFailedException')
      return false
    throw error
  }
}

/**
 * The Java leader's assign of a lease to a worker (J/coordinator/assignment/LeaseAssignmentManager.java
 * parallelyAssignLeases → J/leases/dynamodb/DynamoDBLeaseRefresher.java assignLease, §3): PUT leaseOwner,
 * DELETE checkpointOwner, ADD leaseCounter 1, ADD ownerSwitchesSinceCheckpoint 1 when the owner changes
 * (or checkpointOwner is the new owner); Expected owner fields as read and leaseKey with its value.
 */
export async function javaAssign(dynamodb: DynamoDBClient, table: string, leaseKey: string, newOwner: string) {
  const item = await read(dynamodb, table, leaseKey)
  if (item === undefined) return false
  const owner = item.leaseOwner?.S
  const checkpointOwner = item.checkpointOwner?.S
  const switches = (owner !== undefined && owner !== newOwner) || checkpointOwner === newOwner
  return update(
    dynamodb,
    table,
    leaseKey,
    {
      leaseOwner: { Action: 'PUT', Value: S(newOwner) },
      checkpointOwner: { Action: 'DELETE' },
      leaseCounter: { Action: 'ADD', Value: N(1) },
      ...(switches ? { ownerSwitchesSinceCheckpoint: { Action: 'ADD', Value: N(1) } } : {}),
    },
    {
      leaseOwner: asRead(item.leaseOwner),
      checkpointOwner: asRead(item.checkpointOwner),
      leaseKey: { Value: S(leaseKey) },
    },
  )
}

/**
 * The Java leader's start of a graceful handoff (DynamoDBLeaseRefresher initiateGracefulLeaseHandoff,
 * §3/§4.1): PUT leaseOwner = new, PUT checkpointOwner = current owner, counter untouched; Expected
 * leaseOwner = current, checkpointOwner Exists=false, leaseKey with its value.
 */
export async function javaInitiateHandoff(dynamodb: DynamoDBClient, table: string, leaseKey: string, newOwner: string) {
  const item = await read(dynamodb, table, leaseKey)
  const owner = item?.leaseOwner
  if (owner === undefined) return false
  return update(
    dynamodb,
    table,
    leaseKey,
    { leaseOwner: { Action: 'PUT', Value: S(newOwner) }, checkpointOwner: { Action: 'PUT', Value: owner } },
    { leaseOwner: { Value: owner }, checkpointOwner: { Exists: false }, leaseKey: { Value: S(leaseKey) } },
  )
}

/**
 * A Java worker's renewal (DynamoDBLeaseRefresher renewLease, J/leases/dynamodb/DynamoDBLeaseRenewer.java,
 * §3): PUT leaseCounter = c + 1, throughputKBps when measured; Expected leaseCounter = c and
 * checkpointOwner Exists=false — unless the worker is handing the lease off (then no such expectation).
 */
export async function javaRenew(dynamodb: DynamoDBClient, table: string, leaseKey: string, handingOff = false) {
  const item = await read(dynamodb, table, leaseKey)
  const counter = item?.leaseCounter
  if (counter?.N === undefined) return false
  return update(
    dynamodb,
    table,
    leaseKey,
    { leaseCounter: { Action: 'PUT', Value: N(Number(counter.N) + 1) } },
    { leaseCounter: { Value: counter }, ...(handingOff ? {} : { checkpointOwner: { Exists: false } }) },
  )
}

/**
 * A Java worker's checkpoint (J/checkpoint/dynamodb/DynamoDBCheckpointer.java → DynamoDBLeaseRefresher
 * updateLease, §3): PUT leaseCounter = c + 1, checkpoint, checkpointSubSequenceNumber,
 * ownerSwitchesSinceCheckpoint 0, DELETE the pending checkpoint; Expected leaseCounter = c.
 */
export async function javaCheckpoint(dynamodb: DynamoDBClient, table: string, leaseKey: string, sequence: string) {
  const item = await read(dynamodb, table, leaseKey)
  const counter = item?.leaseCounter
  if (counter?.N === undefined) return false
  return update(
    dynamodb,
    table,
    leaseKey,
    {
      leaseCounter: { Action: 'PUT', Value: N(Number(counter.N) + 1) },
      checkpoint: { Action: 'PUT', Value: S(sequence) },
      checkpointSubSequenceNumber: { Action: 'PUT', Value: N(0) },
      ownerSwitchesSinceCheckpoint: { Action: 'PUT', Value: N(0) },
      pendingCheckpoint: { Action: 'DELETE' },
      pendingCheckpointSubSequenceNumber: { Action: 'DELETE' },
    },
    { leaseCounter: { Value: counter } },
  )
}

/**
 * A live Java worker: renews its leases every failoverTimeMillis / 3 − 25 ms, as DynamoDBLeaseRenewer
 * does (without the checkpointOwner expectation for those it hands off). Stop it to simulate a crash.
 */
export function javaWorkerRenewing(
  dynamodb: DynamoDBClient,
  table: string,
  leaseKeys: readonly string[],
  failoverTimeMillis: number,
  handingOff = false,
): () => Promise<void> {
  let stopped = false
  const loop = (async () => {
    while (!stopped) {
      for (const leaseKey of leaseKeys) await javaRenew(dynamodb, table, leaseKey, handingOff)
      await sleep(Math.floor(failoverTimeMillis / 3) - 25)
    }
  })()
  return async () => {
    stopped = true
    await loop
  }
}

/**
 * A lease table as a Java KCL 2.x application created it (J/leases/dynamodb/DynamoDBLeaseRefresher.java
 * createLeaseTableIfNotExists of 2.x): hash key leaseKey only, PAY_PER_REQUEST, no GSI — which dynalite
 * cannot add later (§12).
 */
export async function javaCreate2xLeaseTable(dynamodb: DynamoDBClient, table: string) {
  await dynamodb.send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'leaseKey', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'leaseKey', KeyType: 'HASH' }],
    }),
  )
}

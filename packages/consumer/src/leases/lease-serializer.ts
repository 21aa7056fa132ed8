import type { AttributeValue } from '@aws-sdk/client-dynamodb'
import type { ExtendedSequenceNumber } from '../types.js'
import type { Lease } from './lease.js'

/** Attribute names of the Java KCL lease table; a Java app's table must read and write unchanged. */
export const LEASE_ATTRIBUTES = Object.freeze({
  leaseKey: 'leaseKey',
  leaseOwner: 'leaseOwner',
  leaseCounter: 'leaseCounter',
  checkpoint: 'checkpoint',
  checkpointSubSequenceNumber: 'checkpointSubSequenceNumber',
  pendingCheckpoint: 'pendingCheckpoint',
  pendingCheckpointSubSequenceNumber: 'pendingCheckpointSubSequenceNumber',
  pendingCheckpointState: 'pendingCheckpointState',
  ownerSwitchesSinceCheckpoint: 'ownerSwitchesSinceCheckpoint',
  parentShardId: 'parentShardId',
  childShardIds: 'childShardIds',
  startingHashKey: 'startingHashKey',
  endingHashKey: 'endingHashKey',
  throughputKBps: 'throughputKBps',
  checkpointOwner: 'checkpointOwner',
  entityType: 'entityType',
})

const A = LEASE_ATTRIBUTES
export type Item = Record<string, AttributeValue>

const str = (item: Item, name: string): string | undefined => item[name]?.S
const num = (item: Item, name: string): number | undefined => {
  const n = item[name]?.N
  return n === undefined ? undefined : Number(n)
}

function extended(item: Item, seqName: string, subName: string): ExtendedSequenceNumber | undefined {
  const sequenceNumber = str(item, seqName)
  if (sequenceNumber === undefined) return undefined
  return { sequenceNumber, subSequenceNumber: num(item, subName) ?? 0 }
}

/**
 * A lease from a table item, or undefined when the item is not a shard lease: KCL 3 keeps other
 * entities in the same table, marked by an `entityType` other than LEASE.
 */
export function leaseFromItem(item: Item): Lease | undefined {
  const entityType = str(item, A.entityType)
  if (entityType !== undefined && entityType !== 'LEASE') return undefined
  const leaseKey = str(item, A.leaseKey)
  if (leaseKey === undefined) return undefined
  const starting = str(item, A.startingHashKey)
  const ending = str(item, A.endingHashKey)
  return {
    leaseKey,
    leaseOwner: str(item, A.leaseOwner),
    leaseCounter: num(item, A.leaseCounter) ?? 0,
    checkpoint: extended(item, A.checkpoint, A.checkpointSubSequenceNumber) ?? {
      sequenceNumber: 'TRIM_HORIZON',
      subSequenceNumber: 0,
    },
    pendingCheckpoint: extended(item, A.pendingCheckpoint, A.pendingCheckpointSubSequenceNumber),
    pendingCheckpointState: item[A.pendingCheckpointState]?.B,
    ownerSwitchesSinceCheckpoint: num(item, A.ownerSwitchesSinceCheckpoint) ?? 0,
    parentShardIds: item[A.parentShardId]?.SS ?? [],
    childShardIds: item[A.childShardIds]?.SS ?? [],
    hashKeyRange:
      starting === undefined || ending === undefined ? undefined : { startingHashKey: starting, endingHashKey: ending },
    throughputKBps: num(item, A.throughputKBps),
    checkpointOwner: str(item, A.checkpointOwner),
  }
}

/** The full item for a new lease, with the attribute types the Java KCL writes. */
export function leaseToItem(lease: Lease): Item {
  const item: Item = {
    [A.leaseKey]: { S: lease.leaseKey },
    [A.leaseCounter]: { N: String(lease.leaseCounter) },
    [A.ownerSwitchesSinceCheckpoint]: { N: String(lease.ownerSwitchesSinceCheckpoint) },
    [A.checkpoint]: { S: lease.checkpoint.sequenceNumber },
    [A.checkpointSubSequenceNumber]: { N: String(lease.checkpoint.subSequenceNumber) },
  }
  if (lease.leaseOwner !== undefined) item[A.leaseOwner] = { S: lease.leaseOwner }
  // DynamoDB rejects empty sets: the Java KCL leaves the attribute out instead.
  if (lease.parentShardIds.length > 0) item[A.parentShardId] = { SS: [...lease.parentShardIds] }
  if (lease.childShardIds.length > 0) item[A.childShardIds] = { SS: [...lease.childShardIds] }
  if (lease.pendingCheckpoint !== undefined) {
    item[A.pendingCheckpoint] = { S: lease.pendingCheckpoint.sequenceNumber }
    item[A.pendingCheckpointSubSequenceNumber] = { N: String(lease.pendingCheckpoint.subSequenceNumber) }
  }
  if (lease.pendingCheckpointState !== undefined) item[A.pendingCheckpointState] = { B: lease.pendingCheckpointState }
  if (lease.hashKeyRange !== undefined) {
    item[A.startingHashKey] = { S: lease.hashKeyRange.startingHashKey }
    item[A.endingHashKey] = { S: lease.hashKeyRange.endingHashKey }
  }
  if (lease.throughputKBps !== undefined) item[A.throughputKBps] = { N: String(lease.throughputKBps) }
  if (lease.checkpointOwner !== undefined) item[A.checkpointOwner] = { S: lease.checkpointOwner }
  return item
}

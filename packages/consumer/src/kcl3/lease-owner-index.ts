import { DescribeTableCommand, type DescribeTableCommandOutput, type DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { LEASE_OWNER_INDEX } from '../leases/lease-table.js'
import { boundedSend } from './dynamo-calls.js'

/**
 * Whether the lease table's `LeaseOwnerToLeaseKeyIndex` exists and is ACTIVE (Java
 * DynamoDBLeaseRefresher.isLeaseOwnerToLeaseKeyIndexActive): the migration to 3.x waits for it,
 * because 3.x workers find their leases only through it.
 */
export async function isLeaseOwnerIndexActive(
  dynamodb: DynamoDBClient,
  leaseTableName: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<boolean> {
  return (await leaseOwnerIndexStatus(dynamodb, leaseTableName, timeoutMs, signal)) === 'ACTIVE'
}

/** The index's IndexStatus (CREATING, ACTIVE, ...; '' if DynamoDB gave none), or 'MISSING' when the table has no such index. */
export async function leaseOwnerIndexStatus(
  dynamodb: DynamoDBClient,
  leaseTableName: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<string> {
  const { Table } = await boundedSend<DescribeTableCommandOutput>(
    dynamodb,
    'DescribeTable',
    new DescribeTableCommand({ TableName: leaseTableName }),
    timeoutMs,
    signal,
  )
  const index = Table?.GlobalSecondaryIndexes?.find((candidate) => candidate.IndexName === LEASE_OWNER_INDEX)
  return index === undefined ? 'MISSING' : (index.IndexStatus ?? '')
}

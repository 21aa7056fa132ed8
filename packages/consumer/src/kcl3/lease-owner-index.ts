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
  const { Table } = await boundedSend<DescribeTableCommandOutput>(
    dynamodb,
    'DescribeTable',
    new DescribeTableCommand({ TableName: leaseTableName }),
    timeoutMs,
    signal,
  )
  const index = Table?.GlobalSecondaryIndexes?.find((candidate) => candidate.IndexName === LEASE_OWNER_INDEX)
  return index?.IndexStatus === 'ACTIVE'
}

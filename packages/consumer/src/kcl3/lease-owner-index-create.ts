import { type DynamoDBClient, UpdateTableCommand } from '@aws-sdk/client-dynamodb'
import { LEASE_OWNER_INDEX } from '../leases/lease-table.js'
import { boundedSend } from './dynamo-calls.js'
import { isLeaseOwnerIndexActive } from './lease-owner-index.js'

/**
 * Java UPGRADE_FROM_2X (DynamicMigrationComponentsInitializer.createGsi): a Java 2.x lease table has no
 * LeaseOwnerToLeaseKeyIndex, and the flip to 3.x waits until it is ACTIVE, so a worker in that mode
 * adds it with UpdateTable (KEYS_ONLY; no throughput on an on-demand table) and does not wait for it.
 * Another worker adding it at the same time, or an index still being built, is not an error.
 * Answers whether the index is there (ACTIVE or being created by this call).
 */
export async function createLeaseOwnerIndexIfMissing(
  dynamodb: DynamoDBClient,
  leaseTableName: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<boolean> {
  if (await isLeaseOwnerIndexActive(dynamodb, leaseTableName, timeoutMs, signal)) return true
  try {
    await boundedSend(
      dynamodb,
      'UpdateTable',
      new UpdateTableCommand({
        TableName: leaseTableName,
        AttributeDefinitions: [
          { AttributeName: 'leaseOwner', AttributeType: 'S' },
          { AttributeName: 'leaseKey', AttributeType: 'S' },
        ],
        GlobalSecondaryIndexUpdates: [
          {
            Create: {
              IndexName: LEASE_OWNER_INDEX,
              KeySchema: [
                { AttributeName: 'leaseOwner', KeyType: 'HASH' },
                { AttributeName: 'leaseKey', KeyType: 'RANGE' },
              ],
              Projection: { ProjectionType: 'KEYS_ONLY' },
            },
          },
        ],
      }),
      timeoutMs,
      signal,
    )
    return true
  } catch (error) {
    // Being created already (by another worker), or the table busy with another update.
    if ((error as { awsCode?: unknown }).awsCode === 'ResourceInUseException') return true
    throw error
  }
}

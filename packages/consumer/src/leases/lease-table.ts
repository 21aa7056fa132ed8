import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb'
import { sleep, toAwsCallError } from '@kinesis-ts/shared'

export const LEASE_OWNER_INDEX = 'LeaseOwnerToLeaseKeyIndex'

async function tableStatus(client: DynamoDBClient, tableName: string, signal: AbortSignal) {
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }), { abortSignal: signal })
    return Table?.TableStatus
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined
    throw toAwsCallError('DescribeTable', error)
  }
}

/**
 * Creates the lease table as the Java KCL does (PAY_PER_REQUEST, hash key leaseKey, the
 * LeaseOwnerToLeaseKeyIndex GSI) unless it exists, then waits until it is ACTIVE.
 */
export async function ensureLeaseTable(client: DynamoDBClient, tableName: string, signal: AbortSignal): Promise<void> {
  if ((await tableStatus(client, tableName, signal)) === undefined) {
    try {
      await client.send(
        new CreateTableCommand({
          TableName: tableName,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [
            { AttributeName: 'leaseKey', AttributeType: 'S' },
            { AttributeName: 'leaseOwner', AttributeType: 'S' },
          ],
          KeySchema: [{ AttributeName: 'leaseKey', KeyType: 'HASH' }],
          GlobalSecondaryIndexes: [
            {
              IndexName: LEASE_OWNER_INDEX,
              KeySchema: [
                { AttributeName: 'leaseOwner', KeyType: 'HASH' },
                { AttributeName: 'leaseKey', KeyType: 'RANGE' },
              ],
              Projection: { ProjectionType: 'KEYS_ONLY' },
            },
          ],
        }),
        { abortSignal: signal },
      )
    } catch (error) {
      // Another worker created it first: fine, wait for it like ours.
      if (!(error instanceof ResourceInUseException)) throw toAwsCallError('CreateTable', error)
    }
  }
  for (let attempt = 0; ; attempt++) {
    if ((await tableStatus(client, tableName, signal)) === 'ACTIVE') return
    await sleep(Math.min(1_000, 20 * 2 ** attempt), signal)
  }
}

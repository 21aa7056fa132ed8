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

const LEASE_OWNER_INDEX_DEFINITION = {
  IndexName: LEASE_OWNER_INDEX,
  KeySchema: [
    { AttributeName: 'leaseOwner', KeyType: 'HASH' as const },
    { AttributeName: 'leaseKey', KeyType: 'RANGE' as const },
  ],
  Projection: { ProjectionType: 'KEYS_ONLY' as const },
}

export interface EnsureLeaseTableOptions {
  /**
   * Create the LeaseOwnerToLeaseKeyIndex GSI with the table (default true), as a Java 3.x table has it.
   * False builds a table shaped as Java KCL 2.x leaves it (tests and benchmarks of the 2.x protocol:
   * without coordinator state such a table runs 2.x under the default options, see kcl3/default-client-version.ts).
   */
  readonly leaseOwnerIndex?: boolean
}

/**
 * Creates the lease table as the Java KCL 3.x does (PAY_PER_REQUEST, hash key leaseKey, the
 * LeaseOwnerToLeaseKeyIndex GSI) unless it exists, then waits until it is ACTIVE. The index is part of
 * CreateTable here, where Java adds it by UpdateTable right after: dynalite accepts it only in CreateTable.
 */
export async function ensureLeaseTable(
  client: DynamoDBClient,
  tableName: string,
  signal: AbortSignal,
  options: EnsureLeaseTableOptions = {},
): Promise<void> {
  if ((await tableStatus(client, tableName, signal)) === undefined) {
    const withIndex = options.leaseOwnerIndex ?? true
    try {
      await client.send(
        new CreateTableCommand({
          TableName: tableName,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [
            { AttributeName: 'leaseKey', AttributeType: 'S' },
            ...(withIndex ? [{ AttributeName: 'leaseOwner', AttributeType: 'S' as const }] : []),
          ],
          KeySchema: [{ AttributeName: 'leaseKey', KeyType: 'HASH' }],
          ...(withIndex ? { GlobalSecondaryIndexes: [LEASE_OWNER_INDEX_DEFINITION] } : {}),
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

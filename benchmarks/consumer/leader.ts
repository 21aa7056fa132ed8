/** Which worker holds the KCL 3.x leader lock: the `Leader` item of the lease table (single-table layout). */
import { type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb'
import { sleep } from '@kinesis-ts/shared'

/** Java's (and the consumer's) default dynamoDbLockBasedLeaderLeaseDurationInMillis. */
export const DEFAULT_LEADER_LEASE_DURATION_MS = 120_000

/** The lock owner's worker id, waiting until some worker holds the lock (it is taken soon after start). */
export async function leaderOf(dynamodb: DynamoDBClient, table: string, timeoutMs: number): Promise<string> {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const out = await dynamodb.send(
      new GetItemCommand({ TableName: table, Key: { leaseKey: { S: 'Leader' } }, ConsistentRead: true }),
      { abortSignal: AbortSignal.timeout(5_000) },
    )
    const owner = out.Item?.ownerName?.S
    if (owner !== undefined && owner !== '') return owner
    if (performance.now() > deadline)
      throw new Error(`no worker took the leader lock of ${table} within ${timeoutMs} ms`)
    await sleep(100)
  }
}

import { type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb'
import { createDynamoDBClient } from '@kinesis-ts/shared/dynamodb'
import { afterAll } from 'vitest'
import type { ItemTable } from '../../../packages/consumer/src/kcl3/contracts.js'
import { DynamoDbLeaderLock, type DynamoDbLeaderLockOptions } from '../../../packages/consumer/src/kcl3/leader-lock.js'
import { ensureLeaseTable } from '../../../packages/consumer/src/leases/lease-table.js'
import { clientOptions, dynamoDBClient, endpoints, uniqueName } from '../../support/aws.js'
import { type FaultProxy, startFaultProxy } from '../../support/fault-proxy.js'

/**
 * The setup the leader-lock test files share, registered in the calling file: a DynamoDB client, a
 * fresh lease table per test (the lock item lives in it, as Java's), a client behind a fault proxy
 * to cut a leader off, a started lock, and a consistent read of the lock item. What it starts is
 * undone after the file's tests, last first.
 */
export function leaderLockFixture(tablePrefix: string) {
  const dynamodb = dynamoDBClient()
  const cleanups: (() => Promise<void> | void)[] = []
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup()
    dynamodb.destroy()
  })
  return {
    dynamodb,
    async leaseTable(): Promise<ItemTable> {
      const tableName = uniqueName(tablePrefix)
      await ensureLeaseTable(dynamodb, tableName, AbortSignal.timeout(30_000))
      return { tableName, keyAttribute: 'leaseKey', sharedWithLeases: true }
    },
    /** A client whose connection to DynamoDB the returned proxy can cut; one attempt per call. */
    async proxied(): Promise<{ proxy: FaultProxy; client: DynamoDBClient }> {
      const proxy = await startFaultProxy(endpoints().dynamodb)
      const client = createDynamoDBClient({ ...clientOptions(proxy.endpoint), maxAttempts: 1 })
      cleanups.push(async () => {
        client.destroy()
        await proxy.close()
      })
      return { proxy, client }
    },
    /** A client of its own (for middleware a test adds), destroyed after the file's tests. */
    ownClient(): DynamoDBClient {
      const client = createDynamoDBClient(clientOptions(endpoints().dynamodb))
      cleanups.push(() => client.destroy())
      return client
    },
    /** A lock, started, and stopped after the file's tests. */
    startedLock(options: DynamoDbLeaderLockOptions): DynamoDbLeaderLock {
      const created = new DynamoDbLeaderLock(options)
      created.start()
      cleanups.push(() => created.stop())
      return created
    },
    /** The lock item as stored now (undefined: none). */
    async rawLock(table: ItemTable) {
      const { Item } = await dynamodb.send(
        new GetItemCommand({
          TableName: table.tableName,
          Key: { [table.keyAttribute]: { S: 'Leader' } },
          ConsistentRead: true,
        }),
      )
      return Item
    },
  }
}

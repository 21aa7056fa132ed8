import { DescribeTableCommand, GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb'
import { afterAll, describe, expect, it } from 'vitest'
import type { KinesisConsumerOptions } from '../../packages/consumer/src/index.js'
import { ensureLeaseTable } from '../../packages/consumer/src/leases/lease-table.js'
import { Fleet, putAll, waitFor } from '../consumer/support/harness.js'
import { createStream, dynamoDBClient, kinesisClient, uniqueName } from '../support/aws.js'
import { javaCreate2xLeaseTable } from './support/java-writes-worker.js'
import { createMigrationStateAsJava } from './support/java-writes.js'
import { KCL3_FAST } from './support/kcl3-fast.js'

const kinesis = kinesisClient()
const dynamodb = dynamoDBClient()
afterAll(() => {
  kinesis.destroy()
  dynamodb.destroy()
})

/** KCL3_FAST's cadences without its clientVersionConfig: the default options, scaled down. */
const { clientVersionConfig: _given, ...DEFAULTS_FAST } = KCL3_FAST as Partial<KinesisConsumerOptions>

async function item(table: string, key: string) {
  const { Item } = await dynamodb.send(
    new GetItemCommand({ TableName: table, Key: { leaseKey: { S: key } }, ConsistentRead: true }),
  )
  return Item
}

async function entityTypes(table: string): Promise<string[]> {
  const { Items } = await dynamodb.send(new ScanCommand({ TableName: table, ConsistentRead: true }))
  return (Items ?? []).flatMap((i) => (i.entityType?.S === undefined ? [] : [i.entityType.S]))
}

const records = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({ partitionKey: `${prefix}-${i % 20}`, data: Buffer.from(`${prefix}:${i}`) }))

describe('clientVersionConfig unset: chosen at start() from the lease table', () => {
  it('no lease table: created with the LeaseOwnerToLeaseKeyIndex and run as KCL 3.x (CLIENT_VERSION_3X written, a leader)', async () => {
    const stream = await createStream(kinesis, 2)
    const table = uniqueName('default-new')
    const fleet = new Fleet(stream, table, DEFAULTS_FAST, {}, { leaseTable: 'none' })
    try {
      const worker = await fleet.start('w1')
      expect(worker.config.clientVersionConfig).toBeUndefined()
      const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: table }))
      expect(Table?.GlobalSecondaryIndexes?.map((index) => index.IndexName)).toEqual(['LeaseOwnerToLeaseKeyIndex'])
      expect((await item(table, 'Migration3.0'))?.cv?.S).toBe('CLIENT_VERSION_3X')
      await waitFor('the leader lock', async () => (await item(table, 'Leader'))?.ownerName?.S === 'w1', 20_000)
      await putAll(kinesis, stream, records('a', 100))
      await waitFor('every record', () => fleet.journal.distinctData().size === 100, 60_000)
    } finally {
      await fleet.close()
    }
  })

  it('a Java 2.x table (no index, no coordinator state): the 2.x protocol, two workers sharing the leases, nothing of 3.x written', async () => {
    const stream = await createStream(kinesis, 4)
    const table = uniqueName('default-kcl2')
    await javaCreate2xLeaseTable(dynamodb, table)
    const fleet = new Fleet(stream, table, DEFAULTS_FAST)
    try {
      const [a, b] = [await fleet.start('a'), await fleet.start('b')]
      await putAll(kinesis, stream, records('b', 100))
      await waitFor('every record', () => fleet.journal.distinctData().size === 100, 60_000)
      // The 2.x taker: b takes (steals) its share; no leader would ever assign one to it.
      // A steal moves one lease through a moment where neither holds it: wait for a settled split.
      await waitFor(
        'both holding leases, all four held',
        () => a.leases.length > 0 && b.leases.length > 0 && a.leases.length + b.leases.length === 4,
        30_000,
      )
      expect(await entityTypes(table)).toEqual([])
      const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: table }))
      expect(Table?.GlobalSecondaryIndexes).toBeUndefined()
    } finally {
      await fleet.close()
    }
  })

  it('a table with the index and leases but no coordinator state (a 2.x fleet of an earlier kinesis-ts): the 2.x protocol, nothing of 3.x written', async () => {
    const stream = await createStream(kinesis, 4)
    const table = uniqueName('default-ts2x')
    await ensureLeaseTable(dynamodb, table, AbortSignal.timeout(30_000))
    const fleet = new Fleet(stream, table, DEFAULTS_FAST, {}, { leaseTable: 'none' })
    try {
      // The earlier release ran the 2.x protocol on a table it made with the index.
      const old = await fleet.start('old', { clientVersionConfig: 'compatibleWith2xPhase1' })
      await waitFor('the old worker holding every lease', () => old.leases.length === 4, 30_000)
      const joined = await fleet.start('new')
      await putAll(kinesis, stream, records('c', 100))
      await waitFor('every record', () => fleet.journal.distinctData().size === 100, 60_000)
      // Only the 2.x taker moves leases here: a 3.x worker waits for a leader that never assigns.
      // A steal moves one lease through a moment where neither holds it: wait for a settled split.
      await waitFor(
        'both holding leases, all four held',
        () => old.leases.length > 0 && joined.leases.length > 0 && old.leases.length + joined.leases.length === 4,
        30_000,
      )
      expect(await entityTypes(table)).toEqual([])
      expect(await item(table, 'Migration3.0')).toBeUndefined()
    } finally {
      await fleet.close()
    }
  })

  it('migration state written by Java is followed as a Java worker on default options follows it: UPGRADE_FROM_2X stays (2.x taker, metrics reported); 3X_WITH_ROLLBACK is finished to 3X', async () => {
    const stream = await createStream(kinesis, 2)
    const upgrading = uniqueName('default-upgrading')
    await ensureLeaseTable(dynamodb, upgrading, AbortSignal.timeout(30_000))
    await createMigrationStateAsJava(
      dynamodb,
      { tableName: upgrading, keyAttribute: 'leaseKey' },
      'CLIENT_VERSION_UPGRADE_FROM_2X',
    )
    const fleet = new Fleet(stream, upgrading, DEFAULTS_FAST)
    try {
      const worker = await fleet.start('u1')
      await waitFor('the 2.x taker holding both leases', () => worker.leases.length === 2, 30_000)
      await waitFor(
        'its WorkerMetricStats',
        async () => (await entityTypes(upgrading)).includes('WORKER_METRIC_STATS'),
        20_000,
      )
      expect((await item(upgrading, 'Migration3.0'))?.cv?.S).toBe('CLIENT_VERSION_UPGRADE_FROM_2X')
      expect(await item(upgrading, 'Leader')).toBeUndefined()
    } finally {
      await fleet.close()
    }

    const rolling = uniqueName('default-rollback')
    await ensureLeaseTable(dynamodb, rolling, AbortSignal.timeout(30_000))
    await createMigrationStateAsJava(
      dynamodb,
      { tableName: rolling, keyAttribute: 'leaseKey' },
      'CLIENT_VERSION_3X_WITH_ROLLBACK',
    )
    const finishing = new Fleet(stream, rolling, DEFAULTS_FAST)
    try {
      await finishing.start('r1')
      const migration = await item(rolling, 'Migration3.0')
      expect(migration?.cv?.S).toBe('CLIENT_VERSION_3X')
      expect(migration?.h?.L?.[0]?.M?.cv?.S).toBe('CLIENT_VERSION_3X_WITH_ROLLBACK')
    } finally {
      await finishing.close()
    }
  })
})

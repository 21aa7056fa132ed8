import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb'
import { sleep } from '@kinesis-ts/shared'
import { afterAll, describe, expect, it } from 'vitest'
import type { KinesisConsumer, KinesisConsumerOptions } from '../../packages/consumer/src/index.js'
import { KCL3_MODE_SEAMS } from '../../packages/consumer/src/kcl3/kcl3-mode-seams.js'
import { ensureLeaseTable } from '../../packages/consumer/src/leases/lease-table.js'
import { Fleet, putAll, waitFor } from '../consumer/support/harness.js'
import { createStream, dynamoDBClient, kinesisClient, listAllShards, uniqueName } from '../support/aws.js'
import {
  createMigrationStateAsJava,
  rollbackAsKclMigrationTool,
  rollforwardAsKclMigrationTool,
} from './support/java-writes.js'

const kinesis = kinesisClient()
const dynamodb = dynamoDBClient()
afterAll(() => {
  kinesis.destroy()
  dynamodb.destroy()
})

/**
 * compatibleWith2x with the fixed Java intervals scaled down through the internal seams: readiness
 * checked every 0.5 s and held 3 s before the flip (Java 60 s and 600 s), the Migration3.0 item read
 * every 0.5 s (Java 60 s), the 2.x leader elected every 1 s (Java 5 min).
 */
const MIGRATING = {
  clientVersionConfig: 'compatibleWith2x',
  leaseAssignmentIntervalMillis: 1_500,
  workerMetricsReporterFreqInMillis: 2_000,
  dynamoDbLockBasedLeaderLeaseDurationInMillis: 3_000,
  dynamoDbLockBasedLeaderHeartbeatPeriodInMillis: 1_000,
  [KCL3_MODE_SEAMS]: {
    workerMetrics: [],
    migrationReadyIntervalMs: 500,
    migrationStabilizationMs: 3_000,
    clientVersionMonitorIntervalMs: 500,
    shuffleLeaderElectionIntervalMs: 1_000,
  },
} as Partial<KinesisConsumerOptions>

async function item(table: string, key: string) {
  const { Item } = await dynamodb.send(
    new GetItemCommand({ TableName: table, Key: { leaseKey: { S: key } }, ConsistentRead: true }),
  )
  return Item
}

const records = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({ partitionKey: `${prefix}-${i % 40}`, data: Buffer.from(`${prefix}:${i}`) }))

async function heldOnce(fleet: Fleet, workers: readonly KinesisConsumer[], shardIds: readonly string[]) {
  const held = workers.flatMap((w) => w.leases)
  if (held.length !== shardIds.length || new Set(held).size !== shardIds.length) return false
  const table = await fleet.leases()
  return workers.every((w) => w.leases.every((id) => table.get(id)?.leaseOwner === w.workerId))
}

describe('KCL 3.x mode: start-up refusals and the 2.x → 3.x migration', () => {
  it('refuses at start() a Migration3.0 item whose cv it does not know, naming what it found', async () => {
    const stream = await createStream(kinesis, 1)
    const table = uniqueName('kcl3-unknown-cv')
    await ensureLeaseTable(dynamodb, table, AbortSignal.timeout(30_000))
    await dynamodb.send(
      new PutItemCommand({
        TableName: table,
        Item: {
          leaseKey: { S: 'Migration3.0' },
          cv: { S: 'CLIENT_VERSION_4X' },
          mb: { S: 'java-worker' },
          mts: { N: String(Date.now()) },
          entityType: { S: 'CLIENT_VERSION_MIGRATION' },
        },
      }),
    )
    const fleet = new Fleet(stream, table, { clientVersionConfig: '3x' })
    try {
      const error = await fleet.start('w1').catch((e: unknown) => e)
      expect(error).toMatchObject({ code: 'ERR_INVALID_CONFIG', option: 'clientVersionConfig' })
      expect((error as Error).message).toContain('CLIENT_VERSION_4X')
      // Nothing taken or created by a worker that refused to start.
      expect((await fleet.leases()).size).toBe(0)
    } finally {
      await fleet.close()
    }
  })

  it("refuses a multi-stream lease table in '3x' as in 2.x", async () => {
    const stream = await createStream(kinesis, 1)
    const table = uniqueName('kcl3-multi')
    await ensureLeaseTable(dynamodb, table, AbortSignal.timeout(30_000))
    const key = `123456789012:${stream}:1700000000:shardId-000000000000`
    await dynamodb.send(
      new PutItemCommand({
        TableName: table,
        Item: { leaseKey: { S: key }, leaseCounter: { N: '3' }, checkpoint: { S: 'TRIM_HORIZON' } },
      }),
    )
    const fleet = new Fleet(stream, table, { clientVersionConfig: '3x' })
    try {
      const error = await fleet.start('w1').catch((e: unknown) => e)
      expect(error).toMatchObject({ code: 'ERR_INVALID_CONFIG', option: 'tableName' })
      expect((error as Error).message).toContain(key)
      // Refused before any coordinator state was written.
      expect(await item(table, 'Migration3.0')).toBeUndefined()
    } finally {
      await fleet.close()
    }
  })

  it('compatibleWith2xPhase1 on an application without migration state writes nothing of KCL 3.x and consumes as 2.x', async () => {
    const stream = await createStream(kinesis, 2)
    const shardIds = (await listAllShards(kinesis, stream)).map((s) => s.ShardId!)
    const table = uniqueName('kcl3-phase1')
    const fleet = new Fleet(stream, table, { ...MIGRATING, clientVersionConfig: 'compatibleWith2xPhase1' })
    try {
      const worker = await fleet.start('p1')
      // The 2.x taker: the worker takes the leases itself, no leader assigns them.
      await waitFor('every shard held', () => heldOnce(fleet, [worker], shardIds))
      await putAll(kinesis, stream, records('p', 100))
      await waitFor('every record', () => fleet.journal.distinctData().size === 100)
      await sleep(2_500)
      for (const key of ['Migration3.0', 'Leader', 'p1']) expect(await item(table, key), key).toBeUndefined()
    } finally {
      await fleet.close()
    }
  })

  it('two workers consuming a 2.x table migrate to 3.x (readiness → CLIENT_VERSION_3X_WITH_ROLLBACK) and back on a KclMigrationTool rollback, without losing a record', async () => {
    const stream = await createStream(kinesis, 4)
    const shardIds = (await listAllShards(kinesis, stream)).map((s) => s.ShardId!)
    const table = uniqueName('kcl3-migrate')
    const fleet = new Fleet(stream, table, MIGRATING)
    try {
      // A 2.x fleet consuming; then redeployed with compatibleWith2x one by one. The old worker runs the
      // pure 2.x protocol explicitly: a Java 2.x table would lack the index, which dynalite cannot add, and on
      // a table with it the default options would run 3.x.
      const old = await fleet.start('m1', { clientVersionConfig: 'compatibleWith2xPhase1' })
      await putAll(kinesis, stream, records('a', 200))
      await waitFor('the 2.x worker consumed', () => fleet.journal.distinctData().size === 200)
      const first = await fleet.start('m1b')
      await old.shutdown()
      const second = await fleet.start('m2')
      const workers = [first, second]
      expect((await item(table, 'Migration3.0'))?.cv?.S).toBe('CLIENT_VERSION_UPGRADE_FROM_2X')
      // While upgrading, records keep coming.
      const feeding = (async () => {
        for (let round = 0; round < 10; round++) {
          await putAll(kinesis, stream, records(`b${round}`, 40))
          await sleep(500)
        }
      })()
      const upgradedAt = Date.now()
      await waitFor(
        'the flip to 3X_WITH_ROLLBACK',
        async () => (await item(table, 'Migration3.0'))?.cv?.S === 'CLIENT_VERSION_3X_WITH_ROLLBACK',
        60_000,
      )
      const flipMs = Date.now() - upgradedAt
      // Both now run 3.x: one holds the leader lock, and the leases stay held once each.
      await waitFor(
        'a 3.x leader',
        async () => ['m1b', 'm2'].includes((await item(table, 'Leader'))?.ownerName?.S ?? ''),
        20_000,
      )
      await feeding
      await waitFor('every record of the upgrade', () => fleet.journal.distinctData().size === 200 + 400, 60_000)
      await waitFor('every shard held once in 3.x', () => heldOnce(fleet, workers, shardIds), 30_000)
      // The switch stopped each shard as at a graceful stop (final checkpoint), keeping its lease.
      const switched = fleet.journal.callsOf('shutdownRequested').filter((c) => c.workerId !== 'm1')
      expect(switched.length).toBeGreaterThan(0)
      const migration = await item(table, 'Migration3.0')
      expect(migration?.h?.L?.[0]?.M?.cv?.S).toBe('CLIENT_VERSION_UPGRADE_FROM_2X')

      // The operator rolls back: both go back to the 2.x taker; the leader lock is given up.
      await rollbackAsKclMigrationTool(dynamodb, { tableName: table, keyAttribute: 'leaseKey' }, migration!)
      await waitFor('the leader lock released', async () => (await item(table, 'Leader')) === undefined, 20_000)
      await putAll(kinesis, stream, records('c', 200))
      await waitFor('every record after the rollback', () => fleet.journal.distinctData().size === 800, 60_000)
      await waitFor('every shard held once in 2.x', () => heldOnce(fleet, workers, shardIds), 30_000)
      const duplicates = fleet.journal.deliveries.length - fleet.journal.distinctData().size
      console.log(
        `kcl3 migration: flipped to 3X_WITH_ROLLBACK ${flipMs} ms after both workers ran compatibleWith2x; ${duplicates} records delivered twice (2.x steals included)`,
      )
    } finally {
      await fleet.close()
    }
  })

  it('after a rollback, a KclMigrationTool roll-forward (2X → UPGRADE_FROM_2X) is followed: the 2.x workers upgrade again and flip to 3.x, without losing a record', async () => {
    const stream = await createStream(kinesis, 4)
    const shardIds = (await listAllShards(kinesis, stream)).map((s) => s.ShardId!)
    const table = uniqueName('kcl3-rollforward')
    const itemTable = { tableName: table, keyAttribute: 'leaseKey' }
    // The state a rolled-back application is left in: the item a Java worker created, then the tool's rollback.
    await ensureLeaseTable(dynamodb, table, AbortSignal.timeout(30_000))
    await createMigrationStateAsJava(dynamodb, itemTable, 'CLIENT_VERSION_UPGRADE_FROM_2X')
    await rollbackAsKclMigrationTool(dynamodb, itemTable, (await item(table, 'Migration3.0'))!)
    const fleet = new Fleet(stream, table, MIGRATING)
    try {
      const workers = [await fleet.start('r1'), await fleet.start('r2')]
      // CLIENT_VERSION_2X: the 2.x taker, no leader lock, no flip however long it runs.
      await waitFor('every shard held once in 2.x', () => heldOnce(fleet, workers, shardIds), 30_000)
      await putAll(kinesis, stream, records('a', 200))
      await waitFor('every record before the roll-forward', () => fleet.journal.distinctData().size === 200, 60_000)
      await sleep(2 * MIGRATING.dynamoDbLockBasedLeaderLeaseDurationInMillis!)
      expect((await item(table, 'Migration3.0'))?.cv?.S).toBe('CLIENT_VERSION_2X')
      expect(await item(table, 'Leader')).toBeUndefined()

      await rollforwardAsKclMigrationTool(dynamodb, itemTable, (await item(table, 'Migration3.0'))!)
      const rolledAt = Date.now()
      const feeding = (async () => {
        for (let round = 0; round < 10; round++) {
          await putAll(kinesis, stream, records(`b${round}`, 40))
          await sleep(500)
        }
      })()
      await waitFor(
        'the flip to 3X_WITH_ROLLBACK',
        async () => (await item(table, 'Migration3.0'))?.cv?.S === 'CLIENT_VERSION_3X_WITH_ROLLBACK',
        60_000,
      )
      const flipMs = Date.now() - rolledAt
      await waitFor(
        'a 3.x leader',
        async () => ['r1', 'r2'].includes((await item(table, 'Leader'))?.ownerName?.S ?? ''),
        20_000,
      )
      await feeding
      await waitFor('every record of the roll-forward', () => fleet.journal.distinctData().size === 200 + 400, 60_000)
      await waitFor('every shard held once in 3.x', () => heldOnce(fleet, workers, shardIds), 30_000)
      // The flip came from the tool's UPGRADE_FROM_2X, which the history keeps right under the flip.
      const history = (await item(table, 'Migration3.0'))?.h?.L?.map((e) => e.M?.mb?.S)
      expect(history?.[0]).toBe('KclMigrationTool-rollforward')
      console.log(`kcl3 roll-forward: flipped to 3X_WITH_ROLLBACK ${flipMs} ms after the tool's roll-forward`)
    } finally {
      await fleet.close()
    }
  })
})

import { CreateTableCommand, PutItemCommand, waitUntilTableExists } from '@aws-sdk/client-dynamodb'
import { SplitShardCommand } from '@aws-sdk/client-kinesis'
import { type LogFn, type Logger, type MetricsSink, ShardMap, hashKeyOf, silentLogger, sleep } from '@kinesis-ts/shared'
import { afterAll, describe, expect, it } from 'vitest'
import { isSentinel } from '../../packages/consumer/src/records/sequence.js'
import { KinesisProducer } from '../../packages/producer/src/index.js'
import { createKinesisClient } from '../../packages/shared/src/index.js'
import {
  clientOptions,
  createStream,
  dynamoDBClient,
  endpoints,
  kinesisClient,
  listAllShards,
  uniqueName,
  waitForStreamActive,
} from '../support/aws.js'
import { Fleet, keysFor, putAll, waitFor } from './support/harness.js'
import { startKinesisProxy } from './support/kinesis-proxy.js'

const kinesis = kinesisClient()
const dynamodb = dynamoDBClient()
afterAll(() => {
  kinesis.destroy()
  dynamodb.destroy()
})

const records = (count: number, keys = 20) =>
  Array.from({ length: count }, (_, i) => ({ partitionKey: `key-${i % keys}`, data: Buffer.from(`r-${i}`) }))

const throwingSink: MetricsSink = {
  put() {
    throw new Error('metrics backend down')
  },
}

describe('consumer resilience', () => {
  it('a metrics sink that throws neither fails a processed batch (no redelivery) nor a lease write', async () => {
    const stream = await createStream(kinesis, 2)
    await putAll(kinesis, stream, records(300))
    const warnings: string[] = []
    const warn: LogFn = (fields: unknown, message?: string) => {
      warnings.push(typeof fields === 'string' ? fields : (message ?? ''))
    }
    const logger: Logger = { ...silentLogger, warn }
    const fleet = new Fleet(stream, uniqueName('app'), { metrics: throwingSink, logger })
    try {
      await fleet.start('w1')
      await waitFor('all records', () => fleet.journal.distinctData().size === 300)
      await sleep(500)
      // One worker, no lease moves: a record seen twice could only be a batch redelivered.
      expect(fleet.journal.deliveries).toHaveLength(300)
      expect(warnings).toContain('a metrics sink threw; measurement dropped')
    } finally {
      await fleet.close()
    }
  })

  it('a producer whose metrics sink throws delivers every record and close() resolves', async () => {
    const stream = await createStream(kinesis, 2)
    const producer = new KinesisProducer({
      streamName: stream,
      ...clientOptions(endpoints().kinesis),
      metrics: throwingSink,
    })
    const results = await Promise.all(records(200).map((record) => producer.addUserRecord(record)))
    await producer.close()
    expect(results.filter((result) => result.successful)).toHaveLength(200)
  })

  it('refuses a Java multi-stream lease table at start() with a ConfigurationError that says what it found', async () => {
    const stream = await createStream(kinesis, 1)
    const table = uniqueName('multi')
    await dynamodb.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'leaseKey', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'leaseKey', KeyType: 'HASH' }],
      }),
    )
    await waitUntilTableExists({ client: dynamodb, maxWaitTime: 30, minDelay: 0.05 }, { TableName: table })
    const key = `123456789012:${stream}:1700000000:shardId-000000000000`
    await dynamodb.send(
      new PutItemCommand({
        TableName: table,
        Item: { leaseKey: { S: key }, leaseCounter: { N: '3' }, checkpoint: { S: 'TRIM_HORIZON' } },
      }),
    )
    const fleet = new Fleet(stream, table)
    try {
      const error = await fleet.start('w1').catch((e: unknown) => e)
      expect(error).toMatchObject({ code: 'ERR_INVALID_CONFIG', option: 'tableName' })
      expect((error as Error).message).toContain(key)
      expect((error as Error).message).toContain('multi-stream')
    } finally {
      await fleet.close()
    }
  })

  it('a shard that Kinesis reports as not found ends (shardEnded, SHARD_END) while the others go on', async () => {
    const stream = await createStream(kinesis, 3)
    const map = new ShardMap(await listAllShards(kinesis, stream))
    const [gone] = (await listAllShards(kinesis, stream)).map((shard) => shard.ShardId!)
    const put = records(600, 60)
    await putAll(kinesis, stream, put)
    const elsewhere = new Set(
      put.filter((r) => map.shardFor(hashKeyOf(r.partitionKey)) !== gone).map((r) => r.data.toString()),
    )
    const proxy = await startKinesisProxy(endpoints().kinesis, (operation, body) =>
      operation === 'GetShardIterator' && body.includes(`"${gone}"`)
        ? { type: 'ResourceNotFoundException', message: `Shard ${gone} in stream ${stream} does not exist` }
        : undefined,
    )
    const proxied = createKinesisClient(clientOptions(proxy.endpoint))
    const fleet = new Fleet(stream, uniqueName('app'), { kinesisClient: proxied })
    try {
      await fleet.start('w1')
      await waitFor('the missing shard to end', async () => {
        const lease = (await fleet.leases()).get(gone!)
        return lease?.checkpoint.sequenceNumber === 'SHARD_END'
      })
      await waitFor('every record of the other shards', () => fleet.journal.distinctData().size === elsewhere.size)
      expect(fleet.journal.distinctData()).toEqual(elsewhere)
      expect(fleet.journal.callsOf('shardEnded').map((c) => c.shardId)).toEqual([gone])
    } finally {
      await fleet.close()
      proxied.destroy()
      await proxy.close()
    }
  })

  it('two quick reshards: a finished child waits for its finished parent to be deleted first, then goes too', async () => {
    const stream = await createStream(kinesis, 1)
    const [root] = (await listAllShards(kinesis, stream)).map((shard) => shard.ShardId!)
    const fleet = new Fleet(stream, uniqueName('app'))
    const onShard = async (shardId: string, tag: string) => {
      const keys = keysFor(new ShardMap(await listAllShards(kinesis, stream)), shardId, 5, tag)
      return keys.map((partitionKey, i) => ({ partitionKey, data: Buffer.from(`${tag}-${i}`) }))
    }
    const started = async (shardId: string) =>
      !isSentinel((await fleet.leases()).get(shardId)?.checkpoint.sequenceNumber ?? 'TRIM_HORIZON')
    try {
      await fleet.start('w1')
      await split(stream, root!)
      const [left, right] = (await listAllShards(kinesis, stream))
        .filter((s) => s.ParentShardId === root)
        .map((s) => s.ShardId!)
      // Only `left` gets records: the root's other child stays unstarted, so the root cannot go yet.
      await putAll(kinesis, stream, await onShard(left!, 'left'))
      await waitFor('left read', () => started(left!))
      await split(stream, left!)
      const grandchildren = (await listAllShards(kinesis, stream)).filter((s) => s.ParentShardId === left)
      for (const child of grandchildren) await putAll(kinesis, stream, await onShard(child.ShardId!, child.ShardId!))
      await waitFor('grandchildren read', async () => {
        for (const child of grandchildren) if (!(await started(child.ShardId!))) return false
        return true
      })
      // Several cleanup rounds (every 500 ms here): `left` is finished with started children, but its parent is still there.
      await sleep(2_000)
      const before = await fleet.leases()
      expect(before.get(root!)?.checkpoint.sequenceNumber).toBe('SHARD_END')
      expect(before.get(left!)?.checkpoint.sequenceNumber).toBe('SHARD_END')
      await putAll(kinesis, stream, await onShard(right!, 'right'))
      await waitFor('both finished leases deleted', async () => {
        const leases = await fleet.leases()
        return !leases.has(root!) && !leases.has(left!)
      })
      expect([...(await fleet.leases()).keys()].sort()).toEqual(
        [right!, ...grandchildren.map((child) => child.ShardId!)].sort(),
      )
    } finally {
      await fleet.close()
    }
  })
})

async function split(stream: string, shardId: string): Promise<void> {
  const shard = (await listAllShards(kinesis, stream)).find((s) => s.ShardId === shardId)!
  const start = BigInt(shard.HashKeyRange!.StartingHashKey!)
  const end = BigInt(shard.HashKeyRange!.EndingHashKey!)
  await kinesis.send(
    new SplitShardCommand({
      StreamName: stream,
      ShardToSplit: shardId,
      NewStartingHashKey: ((start + end) / 2n).toString(),
    }),
  )
  await waitForStreamActive(kinesis, stream)
}

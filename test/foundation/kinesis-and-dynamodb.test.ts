import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DescribeTableCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb'
import {
  type ChildShard,
  GetRecordsCommand,
  GetShardIteratorCommand,
  PutRecordsCommand,
  SplitShardCommand,
} from '@aws-sdk/client-kinesis'
import { ShardMap, decodeAggregated, encodeAggregated, hashKeyOf, sleep } from '@kinesis-ts/shared'
import { afterAll, describe, expect, it } from 'vitest'
import { ensureLeaseTable } from '../../packages/consumer/src/leases/lease-table.js'
import {
  createStream,
  dynamoDBClient,
  kinesisClient,
  listAllShards,
  uniqueName,
  waitForStreamActive,
} from '../support/aws.js'

const kinesis = kinesisClient()
const dynamodb = dynamoDBClient()
afterAll(() => {
  kinesis.destroy()
  dynamodb.destroy()
})

async function readShard(streamName: string, shardId: string) {
  const { ShardIterator } = await kinesis.send(
    new GetShardIteratorCommand({ StreamName: streamName, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }),
  )
  const records = []
  let iterator = ShardIterator
  let childShards: ChildShard[] | undefined
  for (let i = 0; i < 20 && iterator; i++) {
    const page = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }))
    records.push(...(page.Records ?? []))
    childShards = page.ChildShards
    if ((page.Records ?? []).length === 0 && page.MillisBehindLatest === 0) break
    iterator = page.NextShardIterator
  }
  return { records, childShards, closed: iterator === undefined }
}

describe('kinesis-local through the shared client factory', () => {
  it('puts records into a 2-shard stream and reads each back on the shard its hash key maps to', async () => {
    const streamName = await createStream(kinesis, 2)
    const map = new ShardMap(await listAllShards(kinesis, streamName))
    expect(map.size).toBe(2)
    const keys = Array.from({ length: 50 }, (_, i) => `key-${i}`)
    const put = await kinesis.send(
      new PutRecordsCommand({
        StreamName: streamName,
        Records: keys.map((key) => ({ PartitionKey: key, Data: Buffer.from(`data-${key}`) })),
      }),
    )
    expect(put.FailedRecordCount).toBe(0)
    put.Records!.forEach((entry, i) => expect(entry.ShardId).toBe(map.shardFor(hashKeyOf(keys[i]!))))

    // An aggregate travels as one Kinesis record and comes back as its user records.
    const aggregate = encodeAggregated(keys.slice(0, 5).map((key) => ({ partitionKey: key, data: Buffer.from(key) })))
    const firstHash = hashKeyOf('key-0').toString()
    await kinesis.send(
      new PutRecordsCommand({
        StreamName: streamName,
        Records: [{ PartitionKey: 'a', ExplicitHashKey: firstHash, Data: aggregate }],
      }),
    )

    const seen: string[] = []
    let aggregatedUserRecords = 0
    for (const shard of map.shards) {
      const { records } = await readShard(streamName, shard.shardId)
      for (const record of records) {
        for (const user of decodeAggregated(record.Data!, { partitionKey: record.PartitionKey })) {
          if (user.aggregated) {
            aggregatedUserRecords++
            expect(shard.shardId).toBe(map.shardFor(BigInt(firstHash)))
          } else {
            seen.push(user.partitionKey)
            expect(map.shardFor(hashKeyOf(user.partitionKey))).toBe(shard.shardId)
            expect(Buffer.from(user.data).toString()).toBe(`data-${user.partitionKey}`)
          }
        }
      }
    }
    expect(seen.sort()).toEqual([...keys].sort())
    expect(aggregatedUserRecords).toBe(5)
  })

  it('splits a shard, and GetRecords on the closed parent reports its ChildShards', async () => {
    const streamName = await createStream(kinesis, 2)
    const [parent] = await listAllShards(kinesis, streamName)
    const start = BigInt(parent!.HashKeyRange!.StartingHashKey!)
    const end = BigInt(parent!.HashKeyRange!.EndingHashKey!)
    await kinesis.send(
      new PutRecordsCommand({
        StreamName: streamName,
        Records: [{ PartitionKey: 'before-split', Data: Buffer.from('x'), ExplicitHashKey: start.toString() }],
      }),
    )
    await kinesis.send(
      new SplitShardCommand({
        StreamName: streamName,
        ShardToSplit: parent!.ShardId!,
        NewStartingHashKey: ((start + end) / 2n).toString(),
      }),
    )
    await sleep(50)
    await waitForStreamActive(kinesis, streamName)

    const shards = await listAllShards(kinesis, streamName)
    const children = shards.filter((s) => s.ParentShardId === parent!.ShardId)
    expect(children).toHaveLength(2)
    const { records, childShards, closed } = await readShard(streamName, parent!.ShardId!)
    expect(records.map((r) => r.PartitionKey)).toEqual(['before-split'])
    expect(closed).toBe(true)
    expect(childShards?.map((c) => c.ShardId).sort()).toEqual(children.map((c) => c.ShardId).sort())
    expect(childShards?.every((c) => c.ParentShards?.includes(parent!.ShardId!))).toBe(true)
    // The routing map now ignores the closed parent.
    expect(new ShardMap(shards).size).toBe(3)
  })
})

describe('dynalite: the lease table as the consumer creates it (Java KCL shape)', () => {
  it('has the LeaseOwnerToLeaseKeyIndex GSI and PAY_PER_REQUEST, and a stale leaseCounter fails the condition', async () => {
    const tableName = uniqueName('leases')
    await ensureLeaseTable(dynamodb, tableName, new AbortController().signal)
    const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: tableName }))
    expect(Table?.TableStatus).toBe('ACTIVE')
    expect(Table?.KeySchema).toEqual([{ AttributeName: 'leaseKey', KeyType: 'HASH' }])
    expect(Table?.GlobalSecondaryIndexes?.map((index) => [index.IndexName, index.KeySchema])).toEqual([
      [
        // The Java KCL's name, written out: the package's constant must not drift from it.
        'LeaseOwnerToLeaseKeyIndex',
        [
          { AttributeName: 'leaseOwner', KeyType: 'HASH' },
          { AttributeName: 'leaseKey', KeyType: 'RANGE' },
        ],
      ],
    ])
    expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST')
    const key: Record<string, AttributeValue> = { leaseKey: { S: 'shardId-000000000000' } }
    await dynamodb.send(
      new PutItemCommand({
        TableName: tableName,
        Item: { ...key, leaseOwner: { S: 'worker-a' }, leaseCounter: { N: '1' }, checkpoint: { S: 'TRIM_HORIZON' } },
        ConditionExpression: 'attribute_not_exists(leaseKey)',
      }),
    )
    const renew = (expected: number) =>
      dynamodb.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: key,
          UpdateExpression: 'SET leaseCounter = leaseCounter + :one',
          ConditionExpression: 'leaseCounter = :expected',
          ExpressionAttributeValues: { ':one': { N: '1' }, ':expected': { N: String(expected) } },
        }),
      )
    await renew(1)
    await expect(renew(1)).rejects.toBeInstanceOf(ConditionalCheckFailedException)
    await renew(2)
  })
})

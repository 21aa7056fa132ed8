import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceNotFoundException as DynamoResourceNotFound,
  ProvisionedThroughputExceededException as DynamoThroughputExceeded,
  GetItemCommand,
  InternalServerError,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb'
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ResourceNotFoundException as KinesisResourceNotFound,
  ProvisionedThroughputExceededException as KinesisThroughputExceeded,
  PutRecordCommand,
} from '@aws-sdk/client-kinesis'
import { classifyError, createKinesisClient, sleep } from '@kinesis-ts/shared'
import { createDynamoDBClient } from '@kinesis-ts/shared/dynamodb'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  clientOptions,
  createStream,
  dynamoDBClient,
  endpoints,
  kinesisClient,
  listAllShards,
  uniqueName,
} from '../support/aws.js'
import { type FaultProxy, type FaultRule, type ProxyExchange, startFaultProxy } from '../support/fault-proxy.js'
import { grownSince, liveResources } from '../support/live-resources.js'

const direct = { dynamodb: dynamoDBClient(), kinesis: kinesisClient() }
afterAll(() => {
  direct.dynamodb.destroy()
  direct.kinesis.destroy()
})

/** Proxies and clients of one test, closed after it. */
const opened: { close(): Promise<void> | void }[] = []
afterEach(async () => {
  for (const item of opened.splice(0).reverse()) await item.close()
})

async function dynamoProxy(rules: readonly FaultRule[] = [], seed = 1) {
  const proxy = await startFaultProxy(endpoints().dynamodb, { rules, seed })
  opened.push(proxy)
  return proxy
}

async function kinesisProxy(rules: readonly FaultRule[] = [], seed = 1) {
  const proxy = await startFaultProxy(endpoints().kinesis, { rules, seed })
  opened.push(proxy)
  return proxy
}

/** The SDK client under test, through the proxy; one attempt unless told, as the consumer's own clients. */
function dynamoThrough(proxy: FaultProxy, options: { maxAttempts?: number } = {}) {
  const client = createDynamoDBClient({ ...clientOptions(proxy.endpoint), maxAttempts: 1, ...options })
  opened.push({ close: () => client.destroy() })
  return client
}

function kinesisThrough(proxy: FaultProxy, options: { maxAttempts?: number } = {}) {
  const client = createKinesisClient({ ...clientOptions(proxy.endpoint), maxAttempts: 1, ...options })
  opened.push({ close: () => client.destroy() })
  return client
}

let table: string
beforeAll(async () => {
  table = uniqueName('proxy-table')
  await direct.dynamodb.send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'leaseKey', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'leaseKey', KeyType: 'HASH' }],
    }),
  )
  for (;;) {
    const { Table } = await direct.dynamodb.send(new DescribeTableCommand({ TableName: table }))
    if (Table?.TableStatus === 'ACTIVE') break
    await sleep(20)
  }
})

/**
 * A client that gives up after `ms` (aborting closes the socket). Not the handler's requestTimeout:
 * with @smithy/node-http-handler 4.x that only logs a warning unless throwOnRequestTimeout is set.
 */
const giveUpAfter = (ms: number) => ({ abortSignal: AbortSignal.timeout(ms) })

const put = (client: DynamoDBClient, key: string, options: { abortSignal?: AbortSignal } = {}) =>
  client.send(
    new PutItemCommand({ TableName: table, Item: { leaseKey: { S: key }, leaseCounter: { N: '1' } } }),
    options,
  )

async function stored(key: string) {
  const { Item } = await direct.dynamodb.send(
    new GetItemCommand({ TableName: table, Key: { leaseKey: { S: key } }, ConsistentRead: true }),
  )
  return Item
}

async function rejection(call: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await call
  } catch (error) {
    return error as Error & Record<string, unknown>
  }
  throw new Error('the call succeeded')
}

const statusOf = (error: Record<string, unknown>) =>
  (error.$metadata as { httpStatusCode?: number } | undefined)?.httpStatusCode

/** Every record in one shard, read directly from kinesis-local. */
async function readShard(kinesis: KinesisClient, streamName: string, shardId: string) {
  const { ShardIterator } = await kinesis.send(
    new GetShardIteratorCommand({ StreamName: streamName, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }),
  )
  const { Records } = await kinesis.send(new GetRecordsCommand({ ShardIterator }))
  return (Records ?? []).map((r) => Buffer.from(r.Data!).toString())
}

describe('fault proxy, DynamoDB through the AWS SDK', () => {
  it('forwards untouched without rules, and counts calls per operation', async () => {
    const proxy = await dynamoProxy()
    const client = dynamoThrough(proxy)
    await put(client, 'plain')
    expect(await stored('plain')).toBeDefined()
    expect(proxy.counts.PutItem).toEqual({ calls: 1, forwarded: 1 })
    expect(proxy.injected()).toBe(0)
    expect(proxy.summary()).toBe('no faults')
  })

  it('commitThen500: the SDK rejects with a retriable 500 InternalServerError, yet the item was written', async () => {
    const proxy = await dynamoProxy([{ match: 'PutItem', fault: { kind: 'commitThen500' } }])
    const error = await rejection(put(dynamoThrough(proxy), 'committed'))
    expect(error).toBeInstanceOf(InternalServerError)
    expect(statusOf(error)).toBe(500)
    expect(error.$fault).toBe('server')
    expect(classifyError(error)).toMatchObject({ retriable: true, throttled: false })
    expect(await stored('committed')).toMatchObject({ leaseKey: { S: 'committed' } })
    expect(proxy.counts.PutItem).toEqual({ calls: 1, forwarded: 1, commitThen500: 1 })
    expect(proxy.summary()).toBe('PutItem commitThen500=1')
  })

  it('commitThen500 is one the SDK itself retries: with two attempts the call succeeds', async () => {
    const proxy = await dynamoProxy([{ match: 'PutItem', times: 1, fault: { kind: 'commitThen500' } }])
    await put(dynamoThrough(proxy, { maxAttempts: 2 }), 'retried')
    expect(proxy.counts.PutItem).toEqual({ calls: 2, forwarded: 2, commitThen500: 1 })
  })

  it('throttle: ProvisionedThroughputExceededException (throttling to the SDK and to us), nothing written', async () => {
    const proxy = await dynamoProxy([{ match: 'PutItem', fault: { kind: 'throttle' } }])
    const error = await rejection(put(dynamoThrough(proxy), 'throttled'))
    expect(error).toBeInstanceOf(DynamoThroughputExceeded)
    expect(error.name).toBe('ProvisionedThroughputExceededException')
    expect(statusOf(error)).toBe(400)
    expect(classifyError(error)).toMatchObject({ retriable: true, throttled: true })
    expect(await stored('throttled')).toBeUndefined()
    expect(proxy.counts.PutItem).toEqual({ calls: 1, throttle: 1 })
  })

  it('throttle as ThrottlingException, the name the DynamoDB front end uses', async () => {
    const proxy = await dynamoProxy([{ fault: { kind: 'throttle', type: 'ThrottlingException' } }])
    const error = await rejection(put(dynamoThrough(proxy), 'throttled-2'))
    expect(error.name).toBe('ThrottlingException')
    expect(classifyError(error)).toMatchObject({ retriable: true, throttled: true })
    expect(await stored('throttled-2')).toBeUndefined()
  })

  it('hang: a client that gives up (aborts) ends the call; the proxy sees it abandoned; nothing written', async () => {
    const proxy = await dynamoProxy([{ match: 'PutItem', fault: { kind: 'hang' } }])
    const exchanges: ProxyExchange[] = []
    proxy.onExchange = (exchange) => exchanges.push(exchange)
    const started = Date.now()
    const error = await rejection(put(dynamoThrough(proxy), 'hung', giveUpAfter(300)))
    const elapsed = Date.now() - started
    expect(error.name).toBe('AbortError')
    expect(elapsed).toBeGreaterThanOrEqual(290)
    expect(elapsed).toBeLessThan(3_000)
    await waitUntil(() => exchanges.length === 1)
    expect(exchanges[0]).toMatchObject({ fault: 'hang', outcome: 'abandoned', upstreamStatus: undefined })
    expect(await stored('hung')).toBeUndefined()
  })

  it('hang with forwardThenHang: the write lands, its answer never comes', async () => {
    const proxy = await dynamoProxy([{ match: 'PutItem', fault: { kind: 'hang', forwardThenHang: true } }])
    const error = await rejection(put(dynamoThrough(proxy), 'hung-committed', giveUpAfter(300)))
    expect(error.name).toBe('AbortError')
    expect(await stored('hung-committed')).toBeDefined()
  })

  it('hang for ms: the connection drops after that long, without an answer', async () => {
    const proxy = await dynamoProxy([{ match: 'PutItem', fault: { kind: 'hang', ms: 250 } }])
    const started = Date.now()
    const error = await rejection(put(dynamoThrough(proxy), 'hung-ms'))
    expect(Date.now() - started).toBeGreaterThanOrEqual(240)
    expect(error.code).toBe('ECONNRESET')
    expect(await stored('hung-ms')).toBeUndefined()
  })

  it('reset: a network error (ECONNRESET, retriable), nothing written; forwardThenReset writes first', async () => {
    const proxy = await dynamoProxy([{ match: 'PutItem', times: 1, fault: { kind: 'reset' } }])
    const client = dynamoThrough(proxy)
    const error = await rejection(put(client, 'reset'))
    expect(error.code).toBe('ECONNRESET')
    expect(classifyError(error).retriable).toBe(true)
    expect(await stored('reset')).toBeUndefined()

    proxy.rules = [{ match: 'PutItem', times: 1, fault: { kind: 'reset', forwardThenReset: true } }]
    expect((await rejection(put(client, 'reset-committed'))).code).toBe('ECONNRESET')
    expect(await stored('reset-committed')).toBeDefined()
    expect(proxy.counts.PutItem).toEqual({ calls: 2, forwarded: 1, reset: 2 })
  })

  it('status5xx: 503 ServiceUnavailableException, not forwarded, retried by the SDK', async () => {
    const proxy = await dynamoProxy([{ match: 'PutItem', times: 1, fault: { kind: 'status5xx' } }])
    const error = await rejection(put(dynamoThrough(proxy), 'unavailable'))
    expect(statusOf(error)).toBe(503)
    expect(error.name).toBe('ServiceUnavailableException')
    expect(classifyError(error).retriable).toBe(true)
    expect(await stored('unavailable')).toBeUndefined()
    proxy.rules = [{ match: 'PutItem', times: 1, fault: { kind: 'status5xx' } }]
    await put(dynamoThrough(proxy, { maxAttempts: 2 }), 'unavailable')
    expect(await stored('unavailable')).toBeDefined()
  })

  it('error: the given status and type, with the DynamoDB prefix the SDK expects', async () => {
    const proxy = await dynamoProxy([
      { match: 'DescribeTable', fault: { kind: 'error', status: 400, type: 'ResourceNotFoundException' } },
    ])
    const error = await rejection(dynamoThrough(proxy).send(new DescribeTableCommand({ TableName: table })))
    expect(error).toBeInstanceOf(DynamoResourceNotFound)
    expect(statusOf(error)).toBe(400)
    expect(classifyError(error)).toMatchObject({ retriable: false, code: 'ResourceNotFoundException' })
  })

  it('rules filter on the parsed body; times counts down; rules can be swapped at run time', async () => {
    const proxy = await dynamoProxy([
      { match: (r) => r.operation === 'PutItem' && r.shardId === 'only-me', times: 2, fault: { kind: 'throttle' } },
    ])
    const client = dynamoThrough(proxy)
    await put(client, 'not-me')
    expect((await rejection(put(client, 'only-me'))).name).toBe('ProvisionedThroughputExceededException')
    expect((await rejection(put(client, 'only-me'))).name).toBe('ProvisionedThroughputExceededException')
    await put(client, 'only-me')
    proxy.rules = [{ match: ['GetItem', 'PutItem'], fault: { kind: 'status5xx' } }]
    expect(statusOf(await rejection(put(client, 'x')))).toBe(503)
    proxy.rules = []
    await put(client, 'x')
    expect(proxy.counts.PutItem).toEqual({ calls: 6, forwarded: 3, throttle: 2, status5xx: 1 })
  })

  it('the observer sees each call with its lease key and body, and what became of it', async () => {
    const proxy = await dynamoProxy([{ match: 'UpdateItem', fault: { kind: 'commitThen500' } }])
    const client = dynamoThrough(proxy)
    await put(client, 'observed')
    const seen: ProxyExchange[] = []
    proxy.onExchange = (exchange) => seen.push(exchange)
    const requests: string[] = []
    proxy.onRequest = (request) => requests.push(`${request.operation}:${request.shardId}`)
    await rejection(
      client.send(
        new UpdateItemCommand({
          TableName: table,
          Key: { leaseKey: { S: 'observed' } },
          UpdateExpression: 'SET leaseOwner = :o',
          ExpressionAttributeValues: { ':o': { S: 'worker-a' } },
        }),
      ),
    )
    expect(requests).toEqual(['UpdateItem:observed'])
    expect(seen).toHaveLength(1)
    const [exchange] = seen
    expect(exchange!.request.body.ExpressionAttributeValues).toEqual({ ':o': { S: 'worker-a' } })
    expect(exchange).toMatchObject({ fault: 'commitThen500', upstreamStatus: 200, outcome: 500 })
    expect(await stored('observed')).toMatchObject({ leaseOwner: { S: 'worker-a' } })
  })
})

describe('fault proxy, Kinesis through the AWS SDK', () => {
  let streamName: string
  let shardIds: string[]
  beforeAll(async () => {
    streamName = await createStream(direct.kinesis, 2, 'proxy-stream')
    shardIds = (await listAllShards(direct.kinesis, streamName)).map((s) => s.ShardId!)
  })

  const putTo = (client: KinesisClient, data: string, shard = 0) =>
    client.send(
      new PutRecordCommand({
        StreamName: streamName,
        Data: Buffer.from(data),
        PartitionKey: 'k',
        // The lowest hash key of the shard (shard 0 starts at 0, shard 1 at 2^127).
        ExplicitHashKey: shard === 0 ? '0' : (2n ** 127n).toString(),
      }),
    )

  it('commitThen500: a 500 InternalFailure the SDK treats as a server fault, after the record was written', async () => {
    const proxy = await kinesisProxy([{ match: 'PutRecord', fault: { kind: 'commitThen500' } }])
    const error = await rejection(putTo(kinesisThrough(proxy), 'committed-once'))
    expect(error.name).toBe('InternalFailure')
    expect(statusOf(error)).toBe(500)
    expect(error.$fault).toBe('server')
    expect(classifyError(error).retriable).toBe(true)
    expect(await readShard(direct.kinesis, streamName, shardIds[0]!)).toContain('committed-once')
  })

  it('commitThen500 retried by the SDK writes the record twice', async () => {
    const proxy = await kinesisProxy([{ match: 'PutRecord', times: 1, fault: { kind: 'commitThen500' } }])
    await putTo(kinesisThrough(proxy, { maxAttempts: 2 }), 'committed-twice', 1)
    const data = await readShard(direct.kinesis, streamName, shardIds[1]!)
    expect(data.filter((d) => d === 'committed-twice')).toHaveLength(2)
  })

  it('throttle: ProvisionedThroughputExceededException on GetRecords, for one shard only (iterators tracked)', async () => {
    await putTo(direct.kinesis, 'for-shard-0', 0)
    await putTo(direct.kinesis, 'for-shard-1', 1)
    const proxy = await kinesisProxy([
      { match: (r) => r.operation === 'GetRecords' && r.shardId === shardIds[0], fault: { kind: 'throttle' } },
    ])
    const exchanges: ProxyExchange[] = []
    proxy.onExchange = (exchange) => exchanges.push(exchange)
    const client = kinesisThrough(proxy)
    const iterator = async (shardId: string) =>
      (
        await client.send(
          new GetShardIteratorCommand({ StreamName: streamName, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }),
        )
      ).ShardIterator
    const first = await client.send(new GetRecordsCommand({ ShardIterator: await iterator(shardIds[1]!) }))
    expect(first.Records?.map((r) => Buffer.from(r.Data!).toString())).toContain('for-shard-1')
    // The next iterator of shard 1 is known to the proxy as shard 1's.
    await client.send(new GetRecordsCommand({ ShardIterator: first.NextShardIterator }))
    const error = await rejection(client.send(new GetRecordsCommand({ ShardIterator: await iterator(shardIds[0]!) })))
    expect(error).toBeInstanceOf(KinesisThroughputExceeded)
    expect(classifyError(error)).toMatchObject({ retriable: true, throttled: true })
    const getRecords = exchanges.filter((e) => e.request.operation === 'GetRecords')
    expect(getRecords.map((e) => [e.request.shardId, e.fault ?? e.outcome])).toEqual([
      [shardIds[1], 200],
      [shardIds[1], 200],
      [shardIds[0], 'throttle'],
    ])
  })

  it('status5xx and reset on GetShardIterator; hang on GetRecords ends when the client gives up', async () => {
    const proxy = await kinesisProxy([
      { match: 'GetShardIterator', times: 1, fault: { kind: 'status5xx' } },
      { match: 'GetShardIterator', times: 1, fault: { kind: 'reset' } },
      { match: 'GetRecords', times: 1, fault: { kind: 'hang' } },
    ])
    const client = kinesisThrough(proxy)
    const input = { StreamName: streamName, ShardId: shardIds[0]!, ShardIteratorType: 'TRIM_HORIZON' as const }
    const unavailable = await rejection(client.send(new GetShardIteratorCommand(input)))
    expect([statusOf(unavailable), unavailable.name]).toEqual([503, 'ServiceUnavailable'])
    expect(classifyError(unavailable).retriable).toBe(true)
    expect((await rejection(client.send(new GetShardIteratorCommand(input)))).code).toBe('ECONNRESET')
    const { ShardIterator } = await client.send(new GetShardIteratorCommand(input))
    expect((await rejection(client.send(new GetRecordsCommand({ ShardIterator }), giveUpAfter(300)))).name).toBe(
      'AbortError',
    )
    expect((await client.send(new GetRecordsCommand({ ShardIterator }))).Records?.length).toBeGreaterThan(0)
    expect(proxy.summary()).toBe('GetShardIterator reset=1 status5xx=1, GetRecords hang=1')
  })

  it('error: ResourceNotFoundException as Kinesis sends it', async () => {
    const proxy = await kinesisProxy([
      { match: 'GetShardIterator', fault: { kind: 'error', status: 400, type: 'ResourceNotFoundException' } },
    ])
    const error = await rejection(
      kinesisThrough(proxy).send(
        new GetShardIteratorCommand({ StreamName: streamName, ShardId: shardIds[0]!, ShardIteratorType: 'LATEST' }),
      ),
    )
    expect(error).toBeInstanceOf(KinesisResourceNotFound)
    expect(classifyError(error).retriable).toBe(false)
  })
})

describe('fault proxy, seeds and closing', () => {
  /** Which of 60 calls a 25% rule faults, with this seed. */
  async function faultedCalls(seed: number): Promise<number[]> {
    const proxy = await dynamoProxy([{ match: 'GetItem', probability: 0.25, fault: { kind: 'throttle' } }], seed)
    const client = dynamoThrough(proxy)
    const faulted: number[] = []
    for (let i = 0; i < 60; i++) {
      try {
        await client.send(new GetItemCommand({ TableName: table, Key: { leaseKey: { S: 'none' } } }))
      } catch {
        faulted.push(i)
      }
    }
    expect(proxy.injected('throttle', 'GetItem')).toBe(faulted.length)
    return faulted
  }

  it('the same seed faults the same calls; another seed others', async () => {
    const first = await faultedCalls(7)
    expect(await faultedCalls(7)).toEqual(first)
    expect(await faultedCalls(8)).not.toEqual(first)
    expect(first.length).toBeGreaterThanOrEqual(5)
    expect(first.length).toBeLessThanOrEqual(30)
  })

  it('close() ends held calls at once and leaves no timer or socket behind', async () => {
    const before = liveResources()
    const proxy = await startFaultProxy(endpoints().dynamodb, {
      rules: [{ match: 'PutItem', fault: { kind: 'hang', ms: 60_000 } }],
    })
    let arrived = false
    proxy.onRequest = () => {
      arrived = true
    }
    const client = createDynamoDBClient({ ...clientOptions(proxy.endpoint), maxAttempts: 1 })
    const call = rejection(put(client, 'held'))
    await waitUntil(() => arrived)
    const started = Date.now()
    await proxy.close()
    expect((await call).code).toBe('ECONNRESET')
    expect(Date.now() - started).toBeLessThan(1_000)
    client.destroy()
    expect(await grownSince(before)).toEqual({})
  })
})

async function waitUntil(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out')
    await sleep(10)
  }
}

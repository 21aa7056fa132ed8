import {
  DescribeStreamSummaryCommand,
  type KinesisClient,
  ListShardsCommand,
  PutRecordsCommand,
  type PutRecordsRequestEntry,
} from '@aws-sdk/client-kinesis'
import { createKinesisClient } from '@kinesis-ts/shared'
import { afterEach, describe, expect, it } from 'vitest'
import { type RecordAggregator, awsKinesisAgg } from '../../lib/aws-kinesis-agg.js'
import { Workload } from '../workload.js'
import { type LimitedEndpoint, type LimitedEndpointOptions, STREAM_NAME, startLimitedEndpoint } from './endpoint.js'
import { md5HashKey } from './ledger.js'

const workload = new Workload({ total: 10_000, bytes: 100, keys: 0 })
const SHARD_0 = '0'
let endpoint: LimitedEndpoint | undefined
let client: KinesisClient | undefined
let clock = 0

async function start(options: Partial<LimitedEndpointOptions> = {}) {
  clock = 0
  endpoint = await startLimitedEndpoint({
    shards: 4,
    total: workload.shape.total,
    delayMs: 0,
    throttleRate: 0,
    errorRate: 0,
    seed: 1,
    now: () => clock,
    ...options,
  })
  client = createKinesisClient({
    region: 'us-east-1',
    endpoint: endpoint.endpoint,
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
  })
  return { endpoint, client }
}

afterEach(async () => {
  client?.destroy()
  await endpoint?.close()
  client = undefined
  endpoint = undefined
})

/** Records `from`..`from + count - 1` as raw entries, all routed to shard 0 by explicit hash key. */
const entries = (from: number, count: number, explicitHashKey: string | undefined = SHARD_0) =>
  Array.from({ length: count }, (_, i) => ({
    PartitionKey: `k${from + i}`,
    Data: workload.dataOf(from + i),
    ...(explicitHashKey === undefined ? {} : { ExplicitHashKey: explicitHashKey }),
  }))

const put = (records: PutRecordsRequestEntry[]) =>
  client!.send(new PutRecordsCommand({ StreamName: STREAM_NAME, Records: records }))

describe('the limit-enforcing endpoint', () => {
  it('lists 4 shards with even hash ranges covering every key, and describes the stream as ACTIVE', async () => {
    await start()
    const { Shards = [] } = await client!.send(new ListShardsCommand({ StreamName: STREAM_NAME }))
    expect(Shards.map((s) => [s.HashKeyRange?.StartingHashKey, s.HashKeyRange?.EndingHashKey])).toEqual([
      ['0', String(2n ** 126n - 1n)],
      [String(2n ** 126n), String(2n ** 127n - 1n)],
      [String(2n ** 127n), String(3n * 2n ** 126n - 1n)],
      [String(3n * 2n ** 126n), String(2n ** 128n - 1n)],
    ])
    const { StreamDescriptionSummary } = await client!.send(
      new DescribeStreamSummaryCommand({ StreamName: STREAM_NAME }),
    )
    expect(StreamDescriptionSummary).toMatchObject({ StreamStatus: 'ACTIVE', OpenShardCount: 4 })
  })

  it('takes 1000 records on a shard at once, throttles the rest entry by entry, and 100 more after 100 ms', async () => {
    await start()
    expect((await put(entries(0, 500))).FailedRecordCount).toBe(0)
    expect((await put(entries(500, 500))).FailedRecordCount).toBe(0)
    const third = await put(entries(1000, 500))
    expect(third.FailedRecordCount).toBe(500)
    expect(third.Records?.[0]).toEqual({
      ErrorCode: 'ProvisionedThroughputExceededException',
      ErrorMessage: `Rate exceeded for shard shardId-000000000000 in stream ${STREAM_NAME} under account 000000000000.`,
    })
    clock = 100
    const fourth = await put(entries(1500, 500))
    expect(fourth.FailedRecordCount).toBe(400)
    expect(fourth.Records?.slice(0, 100).every((r) => r.ShardId === 'shardId-000000000000')).toBe(true)
    expect(fourth.Records?.slice(100).every((r) => r.ErrorCode === 'ProvisionedThroughputExceededException')).toBe(true)
    const report = endpoint!.report()
    expect(report.counters).toMatchObject({ throttledByLimit: 900, throttledInjected: 0, entries: 2000 })
    expect(report.ledger.delivered).toBe(1100)
  })

  it('meters bytes as data plus partition key: a second 600 KiB entry in the same instant is throttled', async () => {
    await start()
    const big = (id: number) => {
      const data = Buffer.alloc(600 * 1024, 7)
      workload.dataOf(id).copy(data)
      return { PartitionKey: 'k', Data: data, ExplicitHashKey: SHARD_0 }
    }
    const out = await put([big(0), big(1)])
    expect(out.Records?.map((r) => r.ErrorCode)).toEqual([undefined, 'ProvisionedThroughputExceededException'])
    expect(endpoint!.report().ledger.shards[0]!.meteredBytes).toBe(600 * 1024 + 1)
  })

  it('limits each shard on its own: a throttled shard does not hold back the others', async () => {
    await start()
    await put(entries(0, 500))
    await put(entries(500, 500))
    const onShard2 = String(2n ** 127n)
    const out = await put([...entries(1000, 1), ...entries(1001, 1, onShard2)])
    expect(out.Records?.map((r) => r.ErrorCode ?? r.ShardId)).toEqual([
      'ProvisionedThroughputExceededException',
      'shardId-000000000002',
    ])
  })

  it('opens KPL aggregates: counts each user record and flags those whose key the shard does not own', async () => {
    await start()
    const aggregator: RecordAggregator = new awsKinesisAgg.RecordAggregator()
    const keys = Array.from({ length: 40 }, (_, i) => `user-${i}`)
    keys.forEach((partitionKey, id) => aggregator.addUserRecord({ partitionKey, data: workload.dataOf(id) }))
    const aggregate = aggregator.build()!
    await put([{ PartitionKey: aggregate.partitionKey, Data: aggregate.data, ExplicitHashKey: SHARD_0 }])
    const notOnShard0 = keys.filter((key) => md5HashKey(key) >= 2n ** 126n).length
    const { ledger } = endpoint!.report()
    expect(notOnShard0).toBeGreaterThan(20)
    expect(ledger.delivered).toBe(40)
    expect(ledger.wrongShard).toBe(notOnShard0)
    expect(ledger.shards[0]).toMatchObject({ kinesisRecords: 1, userRecords: 40, wrongShard: notOnShard0 })
  })

  it('sees per-key order across requests: an earlier record of a key accepted after a later one', async () => {
    await start()
    await put([{ PartitionKey: 'same', Data: workload.dataOf(5) }])
    await put([{ PartitionKey: 'same', Data: workload.dataOf(3) }])
    await put([{ PartitionKey: 'same', Data: workload.dataOf(6) }])
    expect(endpoint!.report().ledger).toMatchObject({ delivered: 3, orderViolations: 1 })
  })

  it('answers 500 InternalFailure to a request it fails at random, writing nothing of it', async () => {
    await start({ errorRate: 1 })
    const failure = await put(entries(0, 10)).catch((error: unknown) => error)
    expect(failure).toMatchObject({ name: 'InternalFailure', $metadata: { httpStatusCode: 500 } })
    expect(endpoint!.report().counters.injectedErrors).toBe(1)
    expect(endpoint!.report().ledger.delivered).toBe(0)
  })

  it('throttles entries at random without spending the buckets, the same entries for the same seed', async () => {
    // 1200 entries for shard 0 in one instant: its buckets hold 1000, and about half are throttled at random.
    const pattern = async () => {
      await start({ throttleRate: 0.5, seed: 7 })
      const failed: boolean[] = []
      for (let from = 0; from < 1200; from += 400) {
        const out = await put(entries(from, 400))
        failed.push(...(out.Records ?? []).map((r) => r.ErrorCode !== undefined))
      }
      const report = endpoint!.report()
      client!.destroy()
      await endpoint!.close()
      client = undefined
      endpoint = undefined
      return { failed, report }
    }
    const first = await pattern()
    const second = await pattern()
    const throttled = first.failed.filter(Boolean).length
    expect(throttled).toBeGreaterThan(480)
    expect(throttled).toBeLessThan(720)
    expect(second.failed).toEqual(first.failed)
    // Had the refused entries spent tokens, the buckets would have run dry and refused some of the rest.
    expect(first.report.counters).toMatchObject({ throttledInjected: throttled, throttledByLimit: 0 })
    expect(first.report.ledger.delivered).toBe(1200 - throttled)
  })

  it('refuses a request of more than 500 entries whole, as Kinesis does', async () => {
    await start()
    const failure = await put(entries(0, 501)).catch((error: unknown) => error)
    expect(failure).toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } })
    expect(endpoint!.report().counters).toMatchObject({ invalidRequests: 1, entries: 0 })
  })

  it('holds every answer for the round-trip delay', async () => {
    await start({ delayMs: 60, now: undefined })
    const started = performance.now()
    await put(entries(0, 1))
    expect(performance.now() - started).toBeGreaterThanOrEqual(59)
  })
})

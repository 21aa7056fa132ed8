import { DescribeStreamSummaryCommand, MergeShardsCommand, SplitShardCommand } from '@aws-sdk/client-kinesis'
import { ShardMap, hashKeyOf, sleep } from '@kinesis-ts/shared'
import { afterAll, describe, expect, it } from 'vitest'
import { KinesisProducer, type UserRecordResult } from '../../packages/producer/src/index.js'
import {
  clientOptions,
  createStream,
  endpoints,
  kinesisClient,
  listAllShards,
  waitForStreamActive,
} from '../support/aws.js'
import { deaggregate, deaggregateWithAwsKinesisAgg, readStream } from './support/read-back.js'

const kinesis = kinesisClient()
afterAll(() => kinesis.destroy())

const producerFor = (streamName: string, extra: Record<string, unknown> = {}) =>
  new KinesisProducer({ streamName, ...clientOptions(endpoints().kinesis), ...extra })

/** Record i: key k-(i mod keys), every 10th with an explicit hash key spread over the key space. */
function recordOf(i: number, keys: number) {
  const explicitHashKey =
    i % 10 === 3 ? ((BigInt(i) * 34028236692093846346337460743176821n) % (1n << 128n)).toString() : undefined
  return { partitionKey: `k-${i % keys}`, data: Buffer.from(`record-${i}`), explicitHashKey }
}

describe('KinesisProducer against kinesis-local', () => {
  it('puts 100k user records over 2000 keys into 4 shards: each read back exactly once, on the shard owning its hash key', async () => {
    const streamName = await createStream(kinesis, 4, 'producer')
    const producer = producerFor(streamName)
    const total = 100_000
    const results: Promise<UserRecordResult>[] = []
    for (let i = 0; i < total; i++) results.push(producer.addUserRecord(recordOf(i, 2000)))
    const settled = await Promise.all(results)
    await producer.close()
    expect(settled.every((r) => r.successful)).toBe(true)

    const stored = await readStream(kinesis, streamName)
    const users = deaggregate(stored)
    expect(users).toHaveLength(total)
    const map = new ShardMap(await listAllShards(kinesis, streamName))
    const seen = new Set<string>()
    for (const user of users) {
      const text = user.data.toString()
      expect(seen.has(text)).toBe(false)
      seen.add(text)
      const i = Number(text.slice('record-'.length))
      const expected = recordOf(i, 2000)
      expect(user.partitionKey).toBe(expected.partitionKey)
      const hashKey =
        expected.explicitHashKey === undefined ? hashKeyOf(expected.partitionKey) : BigInt(expected.explicitHashKey)
      expect(user.shardId).toBe(map.shardFor(hashKey))
      // The promise told the truth about where the record is.
      if (i % 997 === 0) {
        expect(settled[i]).toMatchObject({
          shardId: user.shardId,
          sequenceNumber: user.sequenceNumber,
          subSequenceNumber: user.subSequenceNumber,
        })
      }
    }
    expect(seen.size).toBe(total)
    // Aggregation happened: far fewer Kinesis records than user records.
    expect(stored.length).toBeLessThan(total / 20)

    const oracle = deaggregateWithAwsKinesisAgg(stored)
    expect(oracle).toHaveLength(total)
    expect(new Set(oracle.map((r) => r.data.toString())).size).toBe(total)

    const metrics = producer.getMetrics()
    const put = metrics.find((m) => m.name === 'UserRecordsPut' && Object.keys(m.dimensions).length === 0)
    expect(put?.sum).toBe(total)
    expect(metrics.some((m) => m.name === 'KinesisRecordsPut' && m.dimensions.ShardId !== undefined)).toBe(true)
  })

  it('with preserveOrder: false (the KPL behaviour) still puts every record exactly once on its shard', async () => {
    const streamName = await createStream(kinesis, 4, 'producer-unordered')
    const producer = producerFor(streamName, { preserveOrder: false })
    const total = 20_000
    const settled = await Promise.all(Array.from({ length: total }, (_, i) => producer.addUserRecord(recordOf(i, 500))))
    await producer.close()
    expect(settled.every((r) => r.successful)).toBe(true)
    const users = deaggregate(await readStream(kinesis, streamName))
    expect(new Set(users.map((u) => u.data.toString())).size).toBe(total)
    expect(users).toHaveLength(total)
    const map = new ShardMap(await listAllShards(kinesis, streamName))
    for (const user of users) {
      const expected = recordOf(Number(user.data.toString().slice('record-'.length)), 500)
      const hashKey =
        expected.explicitHashKey === undefined ? hashKeyOf(expected.partitionKey) : BigInt(expected.explicitHashKey)
      expect(user.shardId).toBe(map.shardFor(hashKey))
    }
  })

  it('one producer writes to two streams: its default given by ARN, the other named per record', async () => {
    const byArn = await createStream(kinesis, 2, 'producer-arn')
    const byName = await createStream(kinesis, 2, 'producer-named')
    const summary = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: byArn }))
    const streamARN = summary.StreamDescriptionSummary!.StreamARN!
    const producer = new KinesisProducer({ streamARN, ...clientOptions(endpoints().kinesis) })
    const total = 2_000
    const settled = await Promise.all(
      Array.from({ length: total }, (_, i) =>
        producer.addUserRecord({
          partitionKey: `k-${i % 100}`,
          data: `record-${i}`,
          ...(i % 2 === 1 ? { streamName: byName } : {}),
        }),
      ),
    )
    await producer.close()
    expect(settled.every((r) => r.successful)).toBe(true)
    // Each stream holds exactly its records, once each.
    const dataOf = async (stream: string) =>
      deaggregate(await readStream(kinesis, stream))
        .map((u) => u.data.toString())
        .sort()
    const expected = (parity: number) => Array.from({ length: total / 2 }, (_, i) => `record-${2 * i + parity}`).sort()
    expect(await dataOf(byArn)).toEqual(expected(0))
    expect(await dataOf(byName)).toEqual(expected(1))
  })

  it('keeps producing through a split and a merge: nothing lost, results name the children, later aggregates target them', async () => {
    const streamName = await createStream(kinesis, 2, 'producer-reshard')
    const producer = producerFor(streamName, { shardMapRefreshIntervalMillis: 1000 })
    const [first, second] = (await listAllShards(kinesis, streamName)).map((s) => s.ShardId!)
    const results: Promise<UserRecordResult>[] = []
    let i = 0
    const produce = async (count: number) => {
      for (const end = i + count; i < end; i++) results.push(producer.addUserRecord(recordOf(i, 500)))
      await producer.flush()
    }
    await produce(5000)
    const shards = await listAllShards(kinesis, streamName)
    const range = shards.find((s) => s.ShardId === first)!.HashKeyRange!
    const middle = (BigInt(range.StartingHashKey!) + BigInt(range.EndingHashKey!)) / 2n
    await kinesis.send(
      new SplitShardCommand({ StreamName: streamName, ShardToSplit: first, NewStartingHashKey: middle.toString() }),
    )
    await waitForStreamActive(kinesis, streamName)
    await produce(5000)
    await sleep(1200)
    await produce(5000)
    const open = (await listAllShards(kinesis, streamName)).filter(
      (s) => s.SequenceNumberRange?.EndingSequenceNumber === undefined,
    )
    const children = open.filter((s) => s.ParentShardId === first).map((s) => s.ShardId!)
    expect(children).toHaveLength(2)
    // Merge the two children back while producing.
    const sorted = open
      .filter((s) => children.includes(s.ShardId!))
      .sort((a, b) => (BigInt(a.HashKeyRange!.StartingHashKey!) < BigInt(b.HashKeyRange!.StartingHashKey!) ? -1 : 1))
    await kinesis.send(
      new MergeShardsCommand({
        StreamName: streamName,
        ShardToMerge: sorted[0]!.ShardId!,
        AdjacentShardToMerge: sorted[1]!.ShardId!,
      }),
    )
    await waitForStreamActive(kinesis, streamName)
    await produce(5000)
    await sleep(1200)
    await produce(5000)
    const settled = await Promise.all(results)
    await producer.close()
    expect(settled.every((r) => r.successful)).toBe(true)

    const shardIds = new Set(settled.map((r) => r.shardId))
    expect(children.some((child) => shardIds.has(child))).toBe(true)
    const finalShards = await listAllShards(kinesis, streamName)
    const merged = finalShards.find(
      (s) => s.ParentShardId === sorted[0]!.ShardId && s.AdjacentParentShardId === sorted[1]!.ShardId,
    )
    expect(merged).toBeDefined()
    // The last batch, produced after the refresh, went to the merged shard or the untouched one only.
    for (const result of settled.slice(-5000)) expect([merged!.ShardId, second]).toContain(result.shardId)

    const users = deaggregate(await readStream(kinesis, streamName))
    const texts = new Set(users.map((u) => u.data.toString()))
    for (let n = 0; n < i; n++) expect(texts.has(`record-${n}`)).toBe(true)

    // Per key, in the order added, across the split and the merge: read parents before children (the
    // order ListShards gives), as a consumer does, first appearances only. Records with their own
    // explicit hash key are left out: theirs is not the key's shard.
    const firstSeen = new Map<string, number[]>()
    const seenOnce = new Set<string>()
    for (const user of users) {
      const text = user.data.toString()
      const n = Number(text.slice('record-'.length))
      if (seenOnce.has(text) || recordOf(n, 500).explicitHashKey !== undefined) continue
      seenOnce.add(text)
      firstSeen.set(user.partitionKey, [...(firstSeen.get(user.partitionKey) ?? []), n])
    }
    // Keys k-3, k-13, ... always carry an explicit hash key.
    expect(firstSeen.size).toBe(450)
    const outOfOrder = [...firstSeen].filter(([, ns]) => ns.some((n, k) => k > 0 && n < ns[k - 1]!))
    expect(outOfOrder.map(([key]) => key)).toEqual([])
  })
})

import { MergeShardsCommand, SplitShardCommand } from '@aws-sdk/client-kinesis'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { KinesisProducer, type UserRecordResult } from '../../packages/producer/src/index.js'
import {
  clientOptions,
  createStream,
  endpoints,
  kinesisClient,
  listAllShards,
  waitForStreamActive,
} from '../support/aws.js'
import { type FaultPlan, type FaultProxy, startFaultProxy } from './support/fault-proxy.js'
import { deaggregate, readStream } from './support/read-back.js'

/**
 * Per-key order with `preserveOrder` (the default) through the faults of real Kinesis: for every key,
 * the records reported successful first appear in the stream in the order they were added. A record
 * may be stored twice (a timed-out request that was written), so it is its first appearance that
 * counts, as for a consumer that drops duplicates.
 */

const kinesis = kinesisClient()
afterAll(() => kinesis.destroy())

let proxy: FaultProxy | undefined
afterEach(async () => {
  await proxy?.close()
  proxy = undefined
})

async function setUp(shards: number, plan: FaultPlan, options: Record<string, unknown> = {}) {
  const streamName = await createStream(kinesis, shards, 'producer-order')
  proxy = await startFaultProxy(endpoints().kinesis, plan)
  const producer = new KinesisProducer({ streamName, ...clientOptions(proxy.endpoint), ...options })
  return { streamName, producer, proxy }
}

interface Outcome {
  readonly key: string
  readonly seq: number
  readonly successful: boolean
}

const settle = (key: string, seq: number, promise: Promise<UserRecordResult>): Promise<Outcome> =>
  promise.then(
    () => ({ key, seq, successful: true }),
    () => ({ key, seq, successful: false }),
  )

/** Data of record `seq` of `key`: "key/seq/" and padding, so the stream says which record it is. */
const dataOf = (key: string, seq: number, padding: number) => Buffer.from(`${key}/${seq}/${'x'.repeat(padding)}`)

/** Keys whose successful records were not first stored in the order they were added. */
function keysOutOfOrder(added: Map<string, number[]>, stored: Map<string, number[]>): string[] {
  return [...added]
    .filter(([key, seqs]) => JSON.stringify(stored.get(key)) !== JSON.stringify(seqs))
    .map(([key]) => key)
}

/**
 * For each key, the sequence numbers of its successful records in the order they first appear in the
 * stream (shard by shard, in each shard's order), next to the order they were added in.
 */
async function firstAppearances(streamName: string, outcomes: readonly Outcome[]) {
  const successful = new Map<string, number[]>()
  for (const { key, seq, successful: ok } of outcomes) {
    if (!ok) continue
    const list = successful.get(key)
    if (list === undefined) successful.set(key, [seq])
    else list.push(seq)
  }
  const seen = new Set<string>()
  const appeared = new Map<string, number[]>()
  for (const user of deaggregate(await readStream(kinesis, streamName))) {
    const text = user.data.toString()
    if (seen.has(text)) continue
    seen.add(text)
    const [key, seq] = text.split('/') as [string, string]
    expect(user.partitionKey).toBe(key)
    const list = appeared.get(key)
    if (list === undefined) appeared.set(key, [Number(seq)])
    else list.push(Number(seq))
  }
  const added = new Map<string, number[]>()
  const stored = new Map<string, number[]>()
  for (const [key, seqs] of successful) {
    const reported = new Set(seqs)
    added.set(key, seqs)
    // Records reported failed may or may not be in the stream; only the successful ones are judged.
    stored.set(
      key,
      (appeared.get(key) ?? []).filter((seq) => reported.has(seq)),
    )
  }
  return { added, stored }
}

describe('KinesisProducer keeps per-key order (preserveOrder) through faults', () => {
  it('a throttled record is stored before a later record of its key that was added while it was in flight', async () => {
    // The request carrying "first" is held 300 ms, then its entry is throttled: "second" is added
    // meanwhile and must not overtake "first"'s retry.
    const { streamName, producer, proxy } = await setUp(
      1,
      { slowResponses: 1, slowMs: 300, throttleNext: 1 },
      { recordMaxBufferedTime: 1, retryBackoffBaseMillis: 1_000, retryBackoffMaxMillis: 1_000 },
    )
    const first = producer.addUserRecord({ partitionKey: 'k', data: 'first' })
    await proxy.until((counts) => counts.putRecordsCalls === 1)
    const second = producer.addUserRecord({ partitionKey: 'k', data: 'second' })
    const results = await Promise.all([first, second])
    await producer.close()
    expect(proxy.counts.throttledEntries).toBe(1)
    expect(results[0].attempts.map((a) => a.errorCode ?? 'ok')).toEqual([
      'ProvisionedThroughputExceededException',
      'ok',
    ])
    const stored = deaggregate(await readStream(kinesis, streamName)).map((u) => u.data.toString())
    expect(stored).toEqual(['first', 'second'])
  })

  it('a throttled record is stored before a later record of its key added while it waits to be retried', async () => {
    const { streamName, producer, proxy } = await setUp(
      1,
      { throttleNext: 1 },
      { recordMaxBufferedTime: 1, retryBackoffBaseMillis: 1_000, retryBackoffMaxMillis: 1_000 },
    )
    const first = producer.addUserRecord({ partitionKey: 'k', data: 'first' })
    await proxy.until((counts) => counts.throttledEntries === 1)
    const second = producer.addUserRecord({ partitionKey: 'k', data: 'second' })
    await Promise.all([first, second])
    await producer.close()
    const stored = deaggregate(await readStream(kinesis, streamName)).map((u) => u.data.toString())
    expect(stored).toEqual(['first', 'second'])
  })

  for (const aggregationEnabled of [true, false]) {
    it(`holds for every key through throttled entries, 500s, resets and timeouts (aggregation ${aggregationEnabled ? 'on' : 'off'})`, async () => {
      const keys = aggregationEnabled ? 400 : 100
      const perKey = aggregationEnabled ? 40 : 12
      const waves = 8
      const { streamName, producer, proxy } = await setUp(
        4,
        { throttleShare: 0.2 },
        {
          // Small aggregates, so a shard sends many and a throttled one has later ones behind it.
          aggregationEnabled,
          aggregationMaxSize: 4096,
          recordMaxBufferedTime: 20,
          requestTimeout: 500,
          retryBackoffBaseMillis: 20,
          retryBackoffMaxMillis: 200,
        },
      )
      const outcomes: Promise<Outcome>[] = []
      let seq = 0
      for (let wave = 0; wave < waves; wave++) {
        // Each wave meets a 500, a reset connection and, every other wave, a response slower than
        // requestTimeout (retried, and written late: a duplicate).
        const { plan } = proxy
        plan.internalErrors = (plan.internalErrors ?? 0) + 1
        plan.resets = (plan.resets ?? 0) + 1
        plan.slowResponses = (plan.slowResponses ?? 0) + (wave % 2)
        plan.slowMs = 1_200
        // In chunks, each added once the previous one went out: newer records keep joining shards
        // whose older ones are being retried.
        const chunk = keys / 4
        for (let n = 0; n < (keys * perKey) / waves; n += chunk) {
          const calls = proxy.counts.putRecordsCalls
          for (let i = 0; i < chunk; i++, seq++) {
            const key = `key-${seq % keys}`
            const perKeySeq = Math.floor(seq / keys)
            const data = dataOf(key, perKeySeq, 20)
            outcomes.push(settle(key, perKeySeq, producer.addUserRecord({ partitionKey: key, data })))
          }
          await proxy.until((c) => c.putRecordsCalls > calls)
        }
        // Let the wave's records meet its faults before the next wave's are added.
        const slow = Math.floor((wave + 1) / 2)
        await proxy.until((c) => c.internalErrors > wave && c.resets > wave && c.slowResponses >= slow)
      }
      const settled = await Promise.all(outcomes)
      await producer.close()
      const { added, stored } = await firstAppearances(streamName, settled)
      // Every key, its successful records stored, each first seen in the order added.
      expect(keysOutOfOrder(added, stored)).toEqual([])
      expect(settled.filter((o) => !o.successful)).toEqual([])
      expect(added.size).toBe(keys)
      expect(proxy.counts).toMatchObject({ internalErrors: waves, resets: waves, slowResponses: waves / 2 })
      expect(proxy.counts.throttledEntries).toBeGreaterThan(20)
    })
  }

  it('holds for every key through a split and a merge while entries are throttled', async () => {
    const keys = 200
    const { streamName, producer, proxy } = await setUp(
      2,
      { throttleShare: 0.2 },
      {
        aggregationMaxSize: 4096,
        recordMaxBufferedTime: 20,
        retryBackoffBaseMillis: 20,
        retryBackoffMaxMillis: 200,
        shardMapRefreshIntervalMillis: 1_000,
      },
    )
    const outcomes: Promise<Outcome>[] = []
    let seq = 0
    /** Adds `chunks` chunks of 50 records, each once the previous one went out. */
    const produce = async (chunks: number) => {
      for (let c = 0; c < chunks; c++) {
        const calls = proxy.counts.putRecordsCalls
        for (let i = 0; i < 50; i++, seq++) {
          const key = `key-${seq % keys}`
          const perKeySeq = Math.floor(seq / keys)
          const data = dataOf(key, perKeySeq, 20)
          outcomes.push(settle(key, perKeySeq, producer.addUserRecord({ partitionKey: key, data })))
        }
        await proxy.until((counts) => counts.putRecordsCalls > calls)
      }
    }
    await produce(20)
    const [first] = (await listAllShards(kinesis, streamName)).map((s) => s.ShardId!)
    const shards = await listAllShards(kinesis, streamName)
    const range = shards.find((s) => s.ShardId === first)!.HashKeyRange!
    const middle = (BigInt(range.StartingHashKey!) + BigInt(range.EndingHashKey!)) / 2n
    // Records keep coming, and being throttled, while the shard splits: the producer learns of it
    // from aggregates landing on the children and from its map refresh.
    const during = produce(40)
    await kinesis.send(
      new SplitShardCommand({ StreamName: streamName, ShardToSplit: first, NewStartingHashKey: middle.toString() }),
    )
    await waitForStreamActive(kinesis, streamName)
    await during
    const children = (await listAllShards(kinesis, streamName)).filter((s) => s.ParentShardId === first)
    const sorted = children.sort((a, b) =>
      BigInt(a.HashKeyRange!.StartingHashKey!) < BigInt(b.HashKeyRange!.StartingHashKey!) ? -1 : 1,
    )
    const merging = produce(40)
    await kinesis.send(
      new MergeShardsCommand({
        StreamName: streamName,
        ShardToMerge: sorted[0]!.ShardId!,
        AdjacentShardToMerge: sorted[1]!.ShardId!,
      }),
    )
    await waitForStreamActive(kinesis, streamName)
    await merging
    await produce(20)
    const settled = await Promise.all(outcomes)
    await producer.close()
    // Parents are read before children (ListShards' order), as a consumer does.
    const { added, stored } = await firstAppearances(streamName, settled)
    expect(keysOutOfOrder(added, stored)).toEqual([])
    expect(settled.filter((o) => !o.successful)).toEqual([])
    expect(added.size).toBe(keys)
    expect(proxy.counts.throttledEntries).toBeGreaterThan(20)
    // The reshard path ran: aggregates predicted on the old map landed on the new shards.
    const wrongShard = producer
      .getMetrics()
      .find((m) => m.name === 'ErrorsByCode' && m.dimensions.ErrorCode === 'WrongShard' && !m.dimensions.StreamName)
    expect(wrongShard?.sum).toBeGreaterThan(0)
  })
})

import { SplitShardCommand } from '@aws-sdk/client-kinesis'
import { AbortedError, ClosedError, sleep } from '@kinesis-ts/shared'
import { afterEach, describe, expect, it } from 'vitest'
import { createFanOutSourceFactory } from '../../packages/consumer/src/fanout/index.js'
import { createStream, kinesisClient, waitForStreamActive } from '../support/aws.js'
import { TRANSPORTS, fanOutFixture, putRecords, readUntil } from './support/fanout-fixture.js'

const keys = (n: number, prefix = 'k') => Array.from({ length: n }, (_, i) => `${prefix}${i % 20}`)
const sequence = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `${tag}:${i}`)

let cleanup: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const step of cleanup.reverse()) await step()
  cleanup = []
})

async function setup(transport: (typeof TRANSPORTS)[number], withRelay: boolean, extra: object = {}) {
  const kinesis = kinesisClient()
  const streamName = await createStream(kinesis, 1, 'fanout')
  kinesis.destroy()
  const fixture = await fanOutFixture(transport, withRelay, { streamName, ...extra })
  cleanup.push(() => fixture.close())
  const shardId = fixture.shards[0]?.ShardId ?? ''
  return { ...fixture, streamName, shardId }
}

describe.each(TRANSPORTS)('fan-out source over $name', (transport) => {
  it('reads a shard from TRIM_HORIZON in order, through subscriptions the service ends', async () => {
    const f = await setup(transport, true)
    await putRecords(f.kinesis, f.streamName, keys(150), 'a')
    // The service ends a subscription every ~5 minutes; the relay does it after 2 events.
    f.relay?.endSubscriptionsAfter(2)
    const source = f.factory.open(f.descriptor(f.shardId), { type: 'TRIM_HORIZON' })
    const first = await readUntil(source, (data) => data.length >= 150)
    await putRecords(f.kinesis, f.streamName, keys(50), 'b')
    const rest = await readUntil(source, (data) => data.length >= 50)
    await putRecords(f.kinesis, f.streamName, keys(20), 'c')
    const tail = await readUntil(source, (data) => data.length >= 20)
    expect([...first.data, ...rest.data, ...tail.data]).toEqual([
      ...sequence('a', 150),
      ...sequence('b', 50),
      ...sequence('c', 20),
    ])
    expect(source.stats.subscriptions).toBeGreaterThanOrEqual(2)
    expect(source.stats.ended).toBeGreaterThanOrEqual(1)
    await source.close()
  })

  it('resubscribes when an open subscription goes silent (stall detection)', async () => {
    const f = await setup(transport, true, { stallTimeoutMs: 1500 })
    await putRecords(f.kinesis, f.streamName, keys(10), 'a')
    const source = f.factory.open(f.descriptor(f.shardId), { type: 'TRIM_HORIZON' })
    const first = await readUntil(source, (data) => data.length >= 10)
    f.relay?.silenceOpenSubscriptions()
    await putRecords(f.kinesis, f.streamName, keys(10), 'b')
    const after = await readUntil(source, (data) => data.length >= 10)
    expect([...first.data, ...after.data]).toEqual([...sequence('a', 10), ...sequence('b', 10)])
    expect(source.stats.stalls).toBeGreaterThanOrEqual(1)
    expect(source.stats.subscriptions).toBeGreaterThanOrEqual(2)
    await source.close()
  })

  it('ends the shard after a split; children from ListShards (kinesis-local sends no end event or ChildShards)', async () => {
    const f = await setup(transport, false, { closedShardCheckIntervalMs: 2000 })
    await putRecords(f.kinesis, f.streamName, keys(40), 'a')
    const source = f.factory.open(f.descriptor(f.shardId), { type: 'TRIM_HORIZON' })
    const before = await readUntil(source, (data) => data.length >= 20)
    const range = f.shards[0]?.HashKeyRange
    const middle = (BigInt(range?.EndingHashKey ?? '0') / 2n).toString()
    await f.kinesis.send(
      new SplitShardCommand({ StreamName: f.streamName, ShardToSplit: f.shardId, NewStartingHashKey: middle }),
    )
    await waitForStreamActive(f.kinesis, f.streamName)
    const after = await readUntil(source, (_data, batch) => batch.shardEnd !== undefined)
    expect([...before.data, ...after.data]).toEqual(sequence('a', 40))
    const children = after.last.shardEnd?.childShards ?? []
    expect(children).toHaveLength(2)
    for (const child of children) expect(child.parentShards).toEqual([f.shardId])
    expect(children.map((c) => c.hashKeyRange.startingHashKey).sort()).toEqual(['0', middle].sort())
    expect(source.subscribed).toBe(false)
    await source.close()
  })

  it('close() cancels the subscription at once and frees its connection', async () => {
    const f = await setup(transport, true)
    await putRecords(f.kinesis, f.streamName, keys(5), 'a')
    const source = f.factory.open(f.descriptor(f.shardId), { type: 'TRIM_HORIZON' })
    await readUntil(source, (data) => data.length >= 5)
    expect(f.relay?.openConnections).toBeGreaterThanOrEqual(1)

    const aborted = new AbortController()
    const waiting = source.next(aborted.signal)
    aborted.abort()
    await expect(waiting).rejects.toBeInstanceOf(AbortedError)

    const pending = source.next(AbortSignal.timeout(30_000))
    await source.close()
    await expect(pending).rejects.toBeInstanceOf(ClosedError)
    await expect(source.next(AbortSignal.timeout(1000))).rejects.toBeInstanceOf(ClosedError)
    const deadline = Date.now() + 5000
    while ((f.relay?.openConnections ?? 0) > 0 && Date.now() < deadline) await sleep(20)
    expect(f.relay?.openConnections).toBe(0)
  })
})

describe('fan-out registration', () => {
  it('two workers registering the same consumer at once both get the ACTIVE consumer', async () => {
    const kinesis = kinesisClient()
    cleanup.push(async () => kinesis.destroy())
    const streamName = await createStream(kinesis, 1, 'fanout-reg')
    const make = () => createFanOutSourceFactory({ kinesis, streamName, applicationName: 'race-app' })
    const [a, b] = [make(), make()]
    await Promise.all([a.start(AbortSignal.timeout(30_000)), b.start(AbortSignal.timeout(30_000))])
    expect(a.consumerARN).toBeDefined()
    expect(b.consumerARN).toBe(a.consumerARN)
    expect(a.consumerARN).toContain('/consumer/race-app:')
    const given = createFanOutSourceFactory({
      kinesis,
      streamName,
      applicationName: 'x',
      consumerARN: a.consumerARN ?? '',
    })
    await given.start(AbortSignal.timeout(30_000))
    expect(given.consumerARN).toBe(a.consumerARN)
  })
})

import { ListStreamConsumersCommand, SplitShardCommand } from '@aws-sdk/client-kinesis'
import { createKinesisClient, sleep } from '@kinesis-ts/shared'
import { afterEach, describe, expect, it } from 'vitest'
import { Fleet, expectPerKeyOrder, putAll, waitFor } from '../consumer/support/harness.js'
import {
  clientOptions,
  createStream,
  endpoints,
  listAllShards,
  uniqueName,
  waitForStreamActive,
} from '../support/aws.js'
import { TRANSPORTS } from './support/fanout-fixture.js'
import { type Relay, startRelay } from './support/h2-relay.js'

let cleanup: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const step of cleanup.reverse()) await step()
  cleanup = []
})

const KEYS = 20
const records = (from: number, perKey: number) =>
  Array.from({ length: KEYS * perKey }, (_, n) => {
    const key = `key-${n % KEYS}`
    return { partitionKey: key, data: Buffer.from(`${key}:${from + Math.floor(n / KEYS)}`) }
  })

describe.each(TRANSPORTS)('KinesisConsumer with enhanced fan-out over $name', (transport) => {
  it('two workers register one stream consumer, share the shards over SubscribeToShard, and deliver every record in per-key order across a split', async () => {
    const fleetSetup = new Fleet('', '')
    // Not 'consumer-…': kinesis-local mis-parses a consumer ARN whose stream name contains "consumer"
    // (SubscribeToShard then answers ResourceNotFound for stream/undefined).
    const streamName = await createStream(fleetSetup.kinesis, 2, 'efo')
    await fleetSetup.close()
    // The workers' client reaches kinesis-local (or the h2c relay in front of it) over HTTP/1.1; each
    // subscription gets a client derived from it, on HTTP/2 or HTTP/1.1 as the transport says.
    const relay: Relay | undefined = transport.direct
      ? undefined
      : await startRelay(endpoints().kinesis, transport.relayProtocol)
    if (relay) cleanup.push(() => relay.close())
    const workersClient = createKinesisClient(clientOptions(relay?.endpoint ?? endpoints().kinesis))
    cleanup.push(async () => workersClient.destroy())
    const applicationName = uniqueName('fanout-app')
    const fleet = new Fleet(streamName, applicationName, {
      // kinesis-local never ends a closed shard's subscription: check ListShards soon after catching up.
      retrieval: { mode: 'fanout', httpVersion: transport.httpVersion, closedShardCheckIntervalMs: 1_000 },
      kinesisClient: workersClient,
    })
    cleanup.push(() => fleet.close())
    await Promise.all([fleet.start('worker-1'), fleet.start('worker-2')])

    await putAll(fleet.kinesis, streamName, records(0, 10))
    await waitFor('first 200 records', () => fleet.journal.distinctData().size >= KEYS * 10, 60_000)
    const [parent] = await listAllShards(fleet.kinesis, streamName)
    const start = BigInt(parent!.HashKeyRange!.StartingHashKey!)
    const end = BigInt(parent!.HashKeyRange!.EndingHashKey!)
    await fleet.kinesis.send(
      new SplitShardCommand({
        StreamName: streamName,
        ShardToSplit: parent!.ShardId!,
        NewStartingHashKey: ((start + end) / 2n).toString(),
      }),
    )
    await sleep(50)
    await waitForStreamActive(fleet.kinesis, streamName)
    await putAll(fleet.kinesis, streamName, records(10, 10))
    await waitFor('all 400 records', () => fleet.journal.distinctData().size >= KEYS * 20, 60_000)

    expectPerKeyOrder(fleet.journal.byKey(), 20)
    // The parent ended before either child started.
    const parentEnded = fleet.journal.callsOf('shardEnded').find((c) => c.shardId === parent!.ShardId)
    expect(parentEnded).toBeDefined()
    const children = (await listAllShards(fleet.kinesis, streamName)).filter((s) => s.ParentShardId === parent!.ShardId)
    expect(children).toHaveLength(2)
    for (const child of children) {
      const initialized = fleet.journal.callsOf('initialize').find((c) => c.shardId === child.ShardId)
      expect(initialized, `${child.ShardId} initialized`).toBeDefined()
      expect(initialized!.at).toBeGreaterThanOrEqual(parentEnded!.at)
    }
    const leases = await fleet.leases()
    const owners = new Set([...leases.values()].map((lease) => lease.leaseOwner).filter((o) => o !== undefined))
    expect(owners).toEqual(new Set(['worker-1', 'worker-2']))
    const { Consumers } = await fleet.kinesis.send(
      new ListStreamConsumersCommand({
        StreamARN: `arn:aws:kinesis:us-east-1:000000000000:stream/${streamName}`,
      }),
    )
    expect(Consumers?.map((c) => c.ConsumerName)).toEqual([applicationName])
    if (relay) expect(relay.subscriptions).toBeGreaterThanOrEqual(2)
  })
})

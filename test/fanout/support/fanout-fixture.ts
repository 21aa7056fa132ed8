import { type KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis'
import { createKinesisClient } from '@kinesis-ts/shared'
import { createFanOutSourceFactory } from '../../../packages/consumer/src/fanout/index.js'
import type { FanOutSourceOptions } from '../../../packages/consumer/src/fanout/options.js'
import type { RawBatch, RecordSource } from '../../../packages/consumer/src/seams.js'
import { clientOptions, endpoints, kinesisClient, listAllShards } from '../../support/aws.js'
import { type Relay, startRelay } from './h2-relay.js'

/** How a test run reaches kinesis-local: HTTP/1.1 straight to it, or HTTP/2 through the h2c relay. */
export interface Transport {
  readonly name: string
  readonly httpVersion: '1.1' | '2'
  readonly relayProtocol: 'http1' | 'h2'
  /** Whether plain reads go through a relay at all (HTTP/2 must: kinesis-local's own HTTP/2 breaks). */
  readonly direct: boolean
}

export const TRANSPORTS: readonly Transport[] = [
  { name: 'HTTP/1.1 direct', httpVersion: '1.1', relayProtocol: 'http1', direct: true },
  { name: 'HTTP/2 through the h2c relay', httpVersion: '2', relayProtocol: 'h2', direct: false },
]

export async function putRecords(kinesis: KinesisClient, streamName: string, keys: string[], tag: string) {
  for (let i = 0; i < keys.length; i += 500) {
    const chunk = keys.slice(i, i + 500)
    const out = await kinesis.send(
      new PutRecordsCommand({
        StreamName: streamName,
        Records: chunk.map((key, j) => ({ PartitionKey: key, Data: Buffer.from(`${tag}:${i + j}`) })),
      }),
    )
    if ((out.FailedRecordCount ?? 0) > 0) throw new Error(`${out.FailedRecordCount} records failed`)
  }
}

/** Reads batches until `done` says so; records as their data strings. */
export async function readUntil(
  source: RecordSource,
  done: (data: string[], batch: RawBatch) => boolean,
  timeoutMs = 30_000,
): Promise<{ data: string[]; last: RawBatch }> {
  const signal = AbortSignal.timeout(timeoutMs)
  const data: string[] = []
  for (;;) {
    const batch = await source.next(signal)
    for (const record of batch.records) data.push(Buffer.from(record.data).toString())
    if (done(data, batch)) return { data, last: batch }
  }
}

export async function fanOutFixture(transport: Transport, withRelay: boolean, overrides: Partial<FanOutSourceOptions>) {
  const kinesis = kinesisClient()
  const relay: Relay | undefined =
    withRelay || !transport.direct ? await startRelay(endpoints().kinesis, transport.relayProtocol) : undefined
  const factory = createFanOutSourceFactory({
    kinesis,
    streamName: overrides.streamName ?? '',
    applicationName: 'fanout-test',
    httpVersion: transport.httpVersion,
    // Control plane straight to kinesis-local; subscriptions through the relay when there is one.
    createSubscriptionClient: (httpVersion) =>
      createKinesisClient({ ...clientOptions(relay?.endpoint ?? endpoints().kinesis), maxAttempts: 1, httpVersion }),
    minSubscribeIntervalMs: 1000,
    backoffBaseMs: 100,
    backoffMaxMs: 1000,
    ...overrides,
  })
  await factory.start(AbortSignal.timeout(30_000))
  const shards = await listAllShards(kinesis, overrides.streamName ?? '')
  const descriptor = (shardId: string) => {
    const shard = shards.find((s) => s.ShardId === shardId) ?? shards[0]
    return {
      shardId: shard?.ShardId ?? '',
      streamName: overrides.streamName ?? '',
      startingHashKey: shard?.HashKeyRange?.StartingHashKey ?? '0',
      endingHashKey: shard?.HashKeyRange?.EndingHashKey ?? '0',
    }
  }
  return {
    kinesis,
    relay,
    factory,
    shards,
    descriptor,
    async close() {
      await factory.stop()
      await relay?.close()
      kinesis.destroy()
    },
  }
}

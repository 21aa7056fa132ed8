import { DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis'
import { createKinesisClient } from '@kinesis-ts/shared'
import { afterAll, describe, expect, it } from 'vitest'
import type { RetrievalOptions } from '../../packages/consumer/src/index.js'
import { clientOptions, createStream, endpoints, kinesisClient, listAllShards, uniqueName } from '../support/aws.js'
import { Fleet, putAll, waitFor } from './support/harness.js'
import { startKinesisProxy } from './support/kinesis-proxy.js'

const kinesis = kinesisClient()
afterAll(() => kinesis.destroy())

/** What one request sent, as the proxy saw it. */
interface Sent {
  readonly operation: string
  readonly input: { StreamName?: unknown; StreamARN?: unknown; NextToken?: unknown }
}

/**
 * Runs a consumer given only the ARN of a fresh two-shard stream (and a client through a recording
 * proxy) until it has every record; returns the ARN and what the consumer sent.
 */
async function consumeByARN(retrieval: RetrievalOptions) {
  const streamName = await createStream(kinesis, 2, 'by-arn')
  const streamARN = `arn:aws:kinesis:us-east-1:000000000000:stream/${streamName}`
  const summary = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: streamName }))
  // The ARN a user would copy from the console is the one the service reports.
  expect(summary.StreamDescriptionSummary?.StreamARN).toBe(streamARN)
  const records = Array.from({ length: 60 }, (_, i) => ({ partitionKey: `key-${i % 12}`, data: Buffer.from(`r-${i}`) }))
  await putAll(kinesis, streamName, records)

  const sent: Sent[] = []
  const proxy = await startKinesisProxy(endpoints().kinesis, (operation, body) => {
    sent.push({ operation, input: JSON.parse(body) })
    return undefined
  })
  const proxied = createKinesisClient(clientOptions(proxy.endpoint))
  const fleet = new Fleet('', uniqueName('arn-app'), {
    streamName: undefined,
    streamARN,
    kinesisClient: proxied,
    retrieval,
  })
  try {
    const worker = await fleet.start('w')
    expect(worker.config).toMatchObject({ streamName, streamARN })
    await waitFor('all records', () => fleet.journal.distinctData().size >= records.length)
    expect([...fleet.journal.distinctData()].sort()).toEqual(records.map((r) => r.data.toString()).sort())
    const shardIds = (await listAllShards(kinesis, streamName)).map((s) => s.ShardId)
    expect([...(await fleet.leases()).keys()].sort()).toEqual(shardIds.sort())
  } finally {
    await fleet.close()
    proxied.destroy()
    await proxy.close()
  }
  return { streamARN, sent }
}

/** The operations that named the stream; each must have named it by the ARN alone. */
function streamNamingOperations(sent: readonly Sent[], streamARN: string): Set<string> {
  const naming = sent.filter((s) => s.input.StreamName !== undefined || s.input.StreamARN !== undefined)
  for (const { operation, input } of naming) {
    expect({ operation, StreamName: input.StreamName, StreamARN: input.StreamARN }).toEqual({
      operation,
      StreamName: undefined,
      StreamARN: streamARN,
    })
  }
  return new Set(naming.map((s) => s.operation))
}

describe('a consumer given only the stream ARN', () => {
  it('reads every shard in polling mode, naming the stream by its ARN in every call', async () => {
    const { streamARN, sent } = await consumeByARN({ mode: 'polling' })
    expect(streamNamingOperations(sent, streamARN)).toEqual(new Set(['ListShards', 'GetShardIterator']))
    // The rest name no stream: GetRecords goes by iterator, ListShards pages by token.
    const others = new Set(sent.filter((s) => s.input.StreamARN === undefined).map((s) => s.operation))
    expect([...others].every((operation) => operation === 'GetRecords' || operation === 'ListShards')).toBe(true)
    expect(others.has('GetRecords')).toBe(true)
  })

  it('reads every shard with enhanced fan-out, registering the consumer on the stream the ARN names', async () => {
    const { streamARN, sent } = await consumeByARN({
      mode: 'fanout',
      httpVersion: '1.1',
      closedShardCheckIntervalMs: 1_000,
    })
    const naming = streamNamingOperations(sent, streamARN)
    for (const operation of ['DescribeStreamSummary', 'RegisterStreamConsumer', 'ListShards']) {
      expect(naming.has(operation), operation).toBe(true)
    }
    expect(sent.filter((s) => s.operation === 'SubscribeToShard').length).toBeGreaterThanOrEqual(2)
  })
})

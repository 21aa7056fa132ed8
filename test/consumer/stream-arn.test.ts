import { DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis'
import { createKinesisClient } from '@kinesis-ts/shared'
import { afterAll, describe, expect, it } from 'vitest'
import { clientOptions, createStream, endpoints, kinesisClient, listAllShards, uniqueName } from '../support/aws.js'
import { Fleet, putAll, waitFor } from './support/harness.js'
import { startKinesisProxy } from './support/kinesis-proxy.js'

const kinesis = kinesisClient()
afterAll(() => kinesis.destroy())

/** How one request named the stream (GetRecords and NextToken pages name none). */
interface Naming {
  readonly operation: string
  readonly streamName: unknown
  readonly streamARN: unknown
}

describe('a consumer given only the stream ARN', () => {
  it('reads every shard in polling mode, naming the stream by its ARN in every call', async () => {
    const streamName = await createStream(kinesis, 2, 'by-arn')
    const streamARN = `arn:aws:kinesis:us-east-1:000000000000:stream/${streamName}`
    const summary = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: streamName }))
    // The ARN a user would copy from the console is the one the service reports.
    expect(summary.StreamDescriptionSummary?.StreamARN).toBe(streamARN)
    const records = Array.from({ length: 60 }, (_, i) => ({
      partitionKey: `key-${i % 12}`,
      data: Buffer.from(`r-${i}`),
    }))
    await putAll(kinesis, streamName, records)

    const namings: Naming[] = []
    const proxy = await startKinesisProxy(endpoints().kinesis, (operation, body) => {
      const input = JSON.parse(body) as { StreamName?: unknown; StreamARN?: unknown; NextToken?: unknown }
      if (operation !== 'GetRecords' && input.NextToken === undefined) {
        namings.push({ operation, streamName: input.StreamName, streamARN: input.StreamARN })
      }
      return undefined
    })
    const proxied = createKinesisClient(clientOptions(proxy.endpoint))
    const fleet = new Fleet('', uniqueName('arn-app'), { streamName: undefined, streamARN, kinesisClient: proxied })
    try {
      const worker = await fleet.start('w')
      expect(worker.config).toMatchObject({ streamName, streamARN })
      await waitFor('all records', () => fleet.journal.deliveries.length >= records.length)
      expect(fleet.journal.deliveries.map((d) => d.data).sort()).toEqual(records.map((r) => r.data.toString()).sort())

      const shardIds = (await listAllShards(kinesis, streamName)).map((s) => s.ShardId)
      expect([...(await fleet.leases()).keys()].sort()).toEqual(shardIds.sort())
      const operations = new Set(namings.map((n) => n.operation))
      expect(operations).toEqual(new Set(['ListShards', 'GetShardIterator']))
      expect(proxy.calls('GetRecords')).toBeGreaterThan(0)
      for (const naming of namings) expect(naming).toEqual({ ...naming, streamName: undefined, streamARN })
    } finally {
      await fleet.close()
      proxied.destroy()
      await proxy.close()
    }
  })
})

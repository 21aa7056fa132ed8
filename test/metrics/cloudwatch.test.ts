import { afterEach, describe, expect, it } from 'vitest'
import { KinesisProducer } from '../../packages/producer/src/index.js'
import { Fleet, putAll, waitFor } from '../consumer/support/harness.js'
import { clientOptions, createStream, endpoints, kinesisClient, uniqueName } from '../support/aws.js'
import { startCloudWatchCapture } from '../support/cloudwatch-capture.js'

let cleanup: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const step of cleanup.reverse()) await step()
  cleanup = []
})

describe('CloudWatch publishing (the cloudWatch option, through @aws-sdk/client-cloudwatch)', () => {
  it('the producer publishes KPL metrics under KinesisProducerLibrary; close() sends the last statistics', async () => {
    const cloudWatch = await startCloudWatchCapture()
    cleanup.push(() => cloudWatch.close())
    const kinesis = kinesisClient()
    cleanup.push(() => kinesis.destroy())
    const streamName = await createStream(kinesis, 2, 'cw-producer')
    const producer = new KinesisProducer({
      streamName,
      ...clientOptions(endpoints().kinesis),
      cloudWatch: { endpoint: cloudWatch.endpoint },
    })
    await Promise.all(
      Array.from({ length: 1_000 }, (_, i) => producer.addUserRecord({ partitionKey: `k-${i % 50}`, data: `r-${i}` })),
    )
    await producer.close()
    expect(cloudWatch.requests.length).toBeGreaterThan(0)
    expect(new Set(cloudWatch.requests.map((r) => r.Namespace))).toEqual(new Set(['KinesisProducerLibrary']))
    // The KPL's granularities: global, stream, shard.
    expect(cloudWatch.sum('UserRecordsPut')).toBe(1_000)
    expect(cloudWatch.sum('UserRecordsPut', { StreamName: streamName })).toBe(1_000)
    const perShard = cloudWatch.requests
      .flatMap((r) => r.MetricData)
      .filter((d) => d.MetricName === 'UserRecordsPut' && d.Dimensions?.some((x) => x.Name === 'ShardId'))
    expect(perShard.reduce((total, d) => total + d.StatisticValues.Sum, 0)).toBe(1_000)
  })

  it('the consumer publishes KCL metrics under the application name; shutdown() sends the last statistics', async () => {
    const cloudWatch = await startCloudWatchCapture()
    cleanup.push(() => cloudWatch.close())
    const setup = kinesisClient()
    const streamName = await createStream(setup, 1, 'cw-consumer')
    setup.destroy()
    const applicationName = uniqueName('cw-app')
    // The workers get ready-made clients, so CloudWatch's region and credentials are given here.
    const { region, credentials } = clientOptions(cloudWatch.endpoint)
    const fleet = new Fleet(streamName, applicationName, {
      cloudWatch: { endpoint: cloudWatch.endpoint, region, credentials },
    })
    cleanup.push(() => fleet.close())
    await fleet.start('worker-1')
    await putAll(
      fleet.kinesis,
      streamName,
      Array.from({ length: 100 }, (_, i) => ({ partitionKey: `k-${i}`, data: Buffer.from(`r-${i}`) })),
    )
    await waitFor('100 records', () => fleet.journal.distinctData().size === 100)
    await fleet.workers[0]!.shutdown()
    expect(new Set(cloudWatch.requests.map((r) => r.Namespace))).toEqual(new Set([applicationName]))
    const processed = cloudWatch.requests
      .flatMap((r) => r.MetricData)
      .filter((d) => d.MetricName === 'RecordsProcessed')
      .reduce((total, d) => total + d.StatisticValues.Sum, 0)
    expect(processed).toBeGreaterThanOrEqual(100)
  })
})

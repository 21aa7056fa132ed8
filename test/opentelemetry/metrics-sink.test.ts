import { OpenTelemetryMetricsSink } from '@kinesis-ts/shared/opentelemetry'
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics'
import { afterAll, describe, expect, it } from 'vitest'
import { CONSUMER_METRICS } from '../../packages/consumer/src/index.js'
import { KinesisProducer, PRODUCER_METRICS } from '../../packages/producer/src/index.js'
import { Fleet, waitFor } from '../consumer/support/harness.js'
import { dimensionSetKey } from '../docs/metric-tables.js'
import { clientOptions, createStream, endpoints, kinesisClient, uniqueName } from '../support/aws.js'

const kinesis = kinesisClient()
afterAll(() => kinesis.destroy())

class InMemoryReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

/** Per instrument name: its dimension sets ('' for none, 'ShardId,StreamName', ...) and their summed sums. */
async function collected(reader: MetricReader): Promise<Map<string, Map<string, number>>> {
  const { resourceMetrics } = await reader.collect()
  const out = new Map<string, Map<string, number>>()
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      const sets = new Map<string, number>()
      for (const point of metric.dataPoints) {
        const set = dimensionSetKey(Object.keys(point.attributes))
        const value = point.value as { sum?: number }
        sets.set(set, (sets.get(set) ?? 0) + (value.sum ?? 0))
      }
      out.set(metric.descriptor.name, sets)
    }
  }
  return out
}

describe('OpenTelemetryMetricsSink with the real producer and consumer', () => {
  it('records the KPL and KCL metrics under their names and dimensions, as the in-memory metrics see them', async () => {
    const streamName = await createStream(kinesis, 2, 'otel-metrics')
    const reader = new InMemoryReader()
    const provider = new MeterProvider({ readers: [reader] })
    const producerSink = new OpenTelemetryMetricsSink(provider, { meterName: 'producer' })
    const producer = new KinesisProducer({ streamName, metrics: producerSink, ...clientOptions(endpoints().kinesis) })
    const total = 500
    await Promise.all(
      Array.from({ length: total }, (_, i) => producer.addUserRecord({ partitionKey: `k-${i % 50}`, data: `r-${i}` })),
    )
    await producer.close()

    const seen = await collected(reader)
    const expected = new Map<string, Set<string>>()
    for (const summary of producer.getMetrics()) {
      const sets = expected.get(summary.name) ?? new Set()
      sets.add(dimensionSetKey(Object.keys(summary.dimensions)))
      expected.set(summary.name, sets)
    }
    const producerNames = new Set<string>(Object.values(PRODUCER_METRICS))
    expect([...seen.keys()].sort()).toEqual([...expected.keys()].sort())
    for (const [name, sets] of seen) {
      expect(producerNames.has(name), `${name} is a KPL metric`).toBe(true)
      expect([...sets.keys()].sort(), `${name} dimensions`).toEqual([...expected.get(name)!].sort())
    }
    expect(seen.get('UserRecordsPut')!.get('')).toBe(total)
    expect(seen.get('UserRecordsPut')!.get('StreamName')).toBe(total)

    const consumerReader = new InMemoryReader()
    const consumerProvider = new MeterProvider({ readers: [consumerReader] })
    const delivered = new Set<string>()
    const fleet = new Fleet(
      streamName,
      uniqueName('otel-metrics-app'),
      { metrics: new OpenTelemetryMetricsSink(consumerProvider) },
      { onRecords: (input) => input.records.forEach((r) => delivered.add(Buffer.from(r.data).toString())) },
    )
    try {
      await fleet.start('w')
      await waitFor('every record', () => delivered.size >= total)
    } finally {
      await fleet.close()
    }
    const consumerSeen = await collected(consumerReader)
    const consumerNames = new Set<string>(Object.values(CONSUMER_METRICS))
    for (const name of consumerSeen.keys()) expect(consumerNames.has(name), `${name} is a KCL metric`).toBe(true)
    for (const name of ['RecordsProcessed', 'MillisBehindLatest', 'GetRecords.Success']) {
      expect(consumerSeen.has(name), name).toBe(true)
    }
    expect(consumerSeen.get('RecordsProcessed')!.get('ShardId')).toBe(total)
    await provider.shutdown()
    await consumerProvider.shutdown()
  })
})

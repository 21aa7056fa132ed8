import { DataPointType, type HistogramMetricData, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics'
import { describe, expect, it } from 'vitest'
import { ConfigurationError } from './errors.js'
import { OpenTelemetryMetricsSink } from './opentelemetry.js'

/** The SDK's reader, collected on demand. */
class InMemoryReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

async function histograms(reader: MetricReader): Promise<Map<string, HistogramMetricData>> {
  const { resourceMetrics } = await reader.collect()
  const out = new Map<string, HistogramMetricData>()
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      expect(metric.dataPointType).toBe(DataPointType.HISTOGRAM)
      out.set(metric.descriptor.name, metric as HistogramMetricData)
    }
  }
  return out
}

describe('OpenTelemetryMetricsSink', () => {
  it('records each metric as a histogram named as documented, dimensions as attributes, unit in UCUM', async () => {
    const reader = new InMemoryReader()
    const provider = new MeterProvider({ readers: [reader] })
    const sink = new OpenTelemetryMetricsSink(provider)
    sink.put('UserRecordsPut', 10, 'Count')
    sink.put('UserRecordsPut', 5, 'Count', { StreamName: 's' })
    sink.put('UserRecordsPut', 7, 'Count', { StreamName: 's' })
    sink.put('RequestTime', 42, 'Milliseconds', { StreamName: 's', ShardId: 'shardId-0' })
    sink.put('KinesisRecordsDataPut', 1024, 'Bytes')
    const seen = await histograms(reader)
    expect([...seen.keys()].sort()).toEqual(['KinesisRecordsDataPut', 'RequestTime', 'UserRecordsPut'])
    expect(seen.get('RequestTime')!.descriptor.unit).toBe('ms')
    expect(seen.get('KinesisRecordsDataPut')!.descriptor.unit).toBe('By')
    expect(seen.get('UserRecordsPut')!.descriptor.unit).toBe('{count}')
    const points = seen.get('UserRecordsPut')!.dataPoints.map((p) => [p.attributes, p.value.count, p.value.sum])
    expect(points).toEqual(
      expect.arrayContaining([
        [{}, 1, 10],
        [{ StreamName: 's' }, 2, 12],
      ]),
    )
    const request = seen.get('RequestTime')!.dataPoints[0]!
    expect(request.attributes).toEqual({ StreamName: 's', ShardId: 'shardId-0' })
    expect([request.value.min, request.value.max]).toEqual([42, 42])
    expect(seen.get('UserRecordsPut')!.dataPoints).toHaveLength(2)
    await provider.shutdown()
  })

  it('takes a meter name and a name prefix, and refuses what is not a MeterProvider', async () => {
    const reader = new InMemoryReader()
    const provider = new MeterProvider({ readers: [reader] })
    new OpenTelemetryMetricsSink(provider, { meterName: 'my-app', prefix: 'kinesis.' }).put(
      'MillisBehindLatest',
      3,
      'Milliseconds',
    )
    const { resourceMetrics } = await reader.collect()
    expect(resourceMetrics.scopeMetrics[0]!.scope.name).toBe('my-app')
    expect(resourceMetrics.scopeMetrics[0]!.metrics[0]!.descriptor.name).toBe('kinesis.MillisBehindLatest')
    expect(() => new OpenTelemetryMetricsSink({} as MeterProvider)).toThrow(ConfigurationError)
    expect(() => new OpenTelemetryMetricsSink(provider, { meterName: '' })).toThrow(/meterName/)
    await provider.shutdown()
  })
})

import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { type PutMetricDataInput, cloudWatchMetrics, cloudWatchSink } from './cloudwatch-metrics.js'
import { ConfigurationError } from './errors.js'

afterEach(() => {
  vi.useRealTimers()
})

describe('cloudWatchMetrics', () => {
  it('sends one statistic set per series per interval, with the common dimensions', async () => {
    vi.useFakeTimers()
    const sent: PutMetricDataInput[] = []
    const sink = cloudWatchMetrics({
      namespace: 'billing',
      dimensions: { WorkerIdentifier: 'w1' },
      flushIntervalMillis: 60_000,
      publish: async (input) => {
        sent.push(input)
      },
    })
    sink.put('RecordsProcessed', 10, 'Count', { ShardId: 'shard-1' })
    sink.put('RecordsProcessed', 30, 'Count', { ShardId: 'shard-1' })
    sink.put('RecordsProcessed', 5, 'Count', { ShardId: 'shard-2' })
    sink.put('MillisBehindLatest', Number.NaN, 'Milliseconds')
    expect(sent).toEqual([])
    await vi.advanceTimersByTimeAsync(60_000)
    expect(sent).toHaveLength(1)
    expect(sent[0]!.Namespace).toBe('billing')
    expect(sent[0]!.MetricData.map((d) => [d.Dimensions, d.StatisticValues])).toEqual([
      [
        [
          { Name: 'WorkerIdentifier', Value: 'w1' },
          { Name: 'ShardId', Value: 'shard-1' },
        ],
        { SampleCount: 2, Sum: 40, Minimum: 10, Maximum: 30 },
      ],
      [
        [
          { Name: 'WorkerIdentifier', Value: 'w1' },
          { Name: 'ShardId', Value: 'shard-2' },
        ],
        { SampleCount: 1, Sum: 5, Minimum: 5, Maximum: 5 },
      ],
    ])
    await sink.close()
    expect(vi.getTimerCount()).toBe(0)
  })

  it('splits large flushes into requests of 1000 data, reports errors, flushes on close', async () => {
    const sent: number[] = []
    const errors: unknown[] = []
    const sink = cloudWatchMetrics({
      namespace: 'n',
      publish: async (input) => {
        sent.push(input.MetricData.length)
        if (sent.length === 1) throw new Error('throttled')
      },
      onError: (error) => errors.push(error),
    })
    for (let i = 0; i < 2_500; i++) sink.put(`M${i}`, 1, 'Count')
    await sink.close()
    await sink.close()
    expect(sent).toEqual([1_000, 1_000, 500])
    expect(errors).toHaveLength(1)
  })
})

describe('cloudWatchSink (through @aws-sdk/client-cloudwatch)', () => {
  it('signs and sends PutMetricData with the default namespace, and frees its client on close()', async () => {
    // A loopback stand-in for the CloudWatch endpoint: it records what the real SDK client sends.
    const requests: { target: string | undefined; body: PutMetricDataInput }[] = []
    const server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (chunk: Buffer) => chunks.push(chunk))
      req.on('end', () => {
        requests.push({
          target: req.headers['x-amz-target'] as string | undefined,
          body: JSON.parse(Buffer.concat(chunks).toString()) as PutMetricDataInput,
        })
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' })
        res.end('{}')
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const errors: unknown[] = []
    try {
      const sink = cloudWatchSink(
        'cloudWatch',
        { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}` },
        {
          namespace: 'KinesisProducerLibrary',
          region: 'us-east-1',
          credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
        },
        (error) => errors.push(error),
      )
      sink.put('UserRecordsPut', 5, 'Count', { StreamName: 'orders' })
      sink.put('UserRecordsPut', 7, 'Count', { StreamName: 'orders' })
      await sink.close()
    } finally {
      server.close()
    }
    expect(errors).toEqual([])
    expect(requests).toHaveLength(1)
    expect(requests[0]!.target).toMatch(/PutMetricData$/)
    expect(requests[0]!.body).toMatchObject({
      Namespace: 'KinesisProducerLibrary',
      MetricData: [
        {
          MetricName: 'UserRecordsPut',
          Dimensions: [{ Name: 'StreamName', Value: 'orders' }],
          StatisticValues: { SampleCount: 2, Sum: 12, Minimum: 5, Maximum: 7 },
          Unit: 'Count',
        },
      ],
    })
  })

  it('rejects bad options at once, naming the option', () => {
    const make = (options: object) => () => cloudWatchSink('cloudWatch', options, { namespace: 'ns' }, () => {})
    expect(make({ namespace: '' })).toThrow(ConfigurationError)
    expect(make({ namespace: '' })).toThrow(
      'Invalid option cloudWatch.namespace: expected a string of 1 to 255 characters (received "")',
    )
    expect(make({ flushIntervalMillis: 10 })).toThrow(/cloudWatch\.flushIntervalMillis/)
  })
})

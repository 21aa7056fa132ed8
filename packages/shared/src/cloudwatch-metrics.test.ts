import { afterEach, describe, expect, it, vi } from 'vitest'
import { type PutMetricDataInput, cloudWatchMetrics } from './cloudwatch-metrics.js'

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

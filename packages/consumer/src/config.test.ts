import { ConfigurationError } from '@kinesis-ts/shared'
import { describe, expect, it } from 'vitest'
import { type KinesisConsumerOptions, resolveConsumerConfig } from './config.js'
import type { ShardRecordProcessor } from './types.js'

const processorFactory = () => ({}) as ShardRecordProcessor
const base: KinesisConsumerOptions = { streamName: 'orders', applicationName: 'billing', processorFactory }

function errorOf(options: Partial<KinesisConsumerOptions>): ConfigurationError {
  try {
    resolveConsumerConfig({ ...base, ...options } as KinesisConsumerOptions)
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError)
    return error as ConfigurationError
  }
  throw new Error('expected a ConfigurationError')
}

describe('resolveConsumerConfig', () => {
  it('applies the Java KCL defaults', () => {
    const config = resolveConsumerConfig(base)
    expect(config).toMatchObject({
      tableName: 'billing',
      initialPosition: { type: 'LATEST' },
      failoverTimeMillis: 10_000,
      leaseRenewerIntervalMillis: 3_308,
      leaseTakerIntervalMillis: 20_050,
      maxLeasesForWorker: 2_147_483_647,
      maxLeasesToStealAtOneTime: 1,
      shardSyncIntervalMillis: 60_000,
      parentShardPollIntervalMillis: 10_000,
      cleanupLeasesUponShardCompletion: true,
      callProcessRecordsEvenForEmptyRecordList: false,
      processingErrorPolicy: 'retry',
      retrieval: { mode: 'polling', maxRecords: 10_000, idleTimeBetweenReadsInMillis: 1_500 },
    })
    expect(config.workerId).toMatch(/.+:[0-9a-f-]{36}$/)
    expect(Object.isFrozen(config)).toBe(true)
  })

  it('takes polling options at top level (KCL names) or under retrieval, and rejects a contradiction', () => {
    expect(resolveConsumerConfig({ ...base, maxRecords: 500 }).retrieval).toMatchObject({ maxRecords: 500 })
    expect(
      resolveConsumerConfig({ ...base, retrieval: { mode: 'polling', idleTimeBetweenReadsMs: 200 } }).retrieval,
    ).toMatchObject({ idleTimeBetweenReadsInMillis: 200 })
    expect(errorOf({ maxRecords: 500, retrieval: { mode: 'polling', maxRecords: 600 } }).option).toBe(
      'retrieval.maxRecords',
    )
  })

  it('resolves fan-out options (consumerName defaults to applicationName)', () => {
    expect(resolveConsumerConfig({ ...base, retrieval: { mode: 'fanout' } }).retrieval).toEqual({
      mode: 'fanout',
      consumerName: 'billing',
      consumerARN: undefined,
      httpVersion: '2',
    })
  })

  it.each<[Partial<KinesisConsumerOptions>, string]>([
    [{ streamName: '' }, 'streamName'],
    [{ streamName: 'has space' }, 'streamName'],
    [{ applicationName: 'ab' }, 'applicationName'],
    [{ maxRecords: 10_001 }, 'maxRecords'],
    [{ maxRecords: 0 }, 'maxRecords'],
    [{ failoverTimeMillis: 50 }, 'failoverTimeMillis'],
    [{ failoverTimeMillis: 1.5 }, 'failoverTimeMillis'],
    [{ maxLeasesToStealAtOneTime: 0 }, 'maxLeasesToStealAtOneTime'],
    [{ initialPosition: 'EARLIEST' as never }, 'initialPosition'],
    [{ initialPosition: { atTimestamp: new Date(Number.NaN) } }, 'initialPosition'],
    [{ processingErrorPolicy: 'ignore' as never }, 'processingErrorPolicy'],
    [{ cleanupLeasesUponShardCompletion: 'yes' as never }, 'cleanupLeasesUponShardCompletion'],
    [{ processorFactory: undefined }, 'processorFactory'],
    [{ processorModule: 'x.js' }, 'processorFactory'],
    [{ workerThreads: 2 }, 'workerThreads'],
    [{ retrieval: { mode: 'push' } as never }, 'retrieval.mode'],
    [{ retrieval: { mode: 'fanout', httpVersion: '3' as never } }, 'retrieval.httpVersion'],
    [{ processingRetryBackoffBaseMillis: 100, processingRetryBackoffMaxMillis: 50 }, 'processingRetryBackoffMaxMillis'],
  ])('rejects %o naming %s', (options, option) => {
    const error = errorOf(options)
    expect(error.option).toBe(option)
    expect(error.code).toBe('ERR_INVALID_CONFIG')
  })

  describe('the stream, by name or ARN', () => {
    const arn = 'arn:aws:kinesis:eu-west-3:123456789012:stream/orders'
    const { streamName: _, ...withoutName } = base

    it('takes the stream name from an ARN given alone, and keeps the ARN for the calls', () => {
      const config = resolveConsumerConfig({ ...withoutName, streamARN: arn })
      expect(config.streamName).toBe('orders')
      expect(config.streamARN).toBe(arn)
      expect(resolveConsumerConfig({ ...withoutName, streamARN: `arn:aws-cn${arn.slice(7)}` }).streamName).toBe(
        'orders',
      )
    })

    it('accepts both when the ARN names the stream given', () => {
      expect(resolveConsumerConfig({ ...base, streamARN: arn })).toMatchObject({ streamName: 'orders', streamARN: arn })
    })

    it('without an ARN, has none', () => {
      expect(resolveConsumerConfig(base).streamARN).toBeUndefined()
    })

    it.each<[Partial<KinesisConsumerOptions>, string, RegExp]>([
      [{ streamName: undefined }, 'streamName', /a streamName or a streamARN/],
      [{ streamName: 'payments', streamARN: arn }, 'streamName', /the stream streamARN names \(orders\)/],
      [{ streamName: undefined, streamARN: 'orders' }, 'streamARN', /a Kinesis stream ARN/],
      [{ streamName: undefined, streamARN: 'arn:aws:sqs:eu-west-3:123456789012:stream/orders' }, 'streamARN', /ARN/],
      [{ streamName: undefined, streamARN: 'arn:aws:kinesis:eu-west-3:1234:stream/orders' }, 'streamARN', /ARN/],
      [{ streamName: undefined, streamARN: `${arn}/consumer/app:1` }, 'streamARN', /ARN/],
      [{ streamName: undefined, streamARN: `${arn.slice(0, -6)}has space` }, 'streamARN', /ARN/],
      [{ streamName: undefined, streamARN: 42 as never }, 'streamARN', /ARN/],
    ])('rejects %o naming %s', (options, option, message) => {
      const error = errorOf(options)
      expect(error.option).toBe(option)
      expect(error.message).toMatch(message)
    })
  })

  it('accepts worker-thread options with processorModule', () => {
    const config = resolveConsumerConfig({
      streamName: 's',
      applicationName: 'app',
      processorModule: new URL('file:///p.js'),
      workerThreads: 4,
      lanesPerShard: 2,
    })
    expect(config).toMatchObject({ workerThreads: 4, lanesPerShard: 2, processorFactory: undefined })
  })
})

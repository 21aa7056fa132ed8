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

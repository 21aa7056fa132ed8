import { ConfigurationError } from '@kinesis-ts/shared'
import { describe, expect, it } from 'vitest'
import { resolveProducerConfig } from './config.js'
import { PRODUCER_DEFAULTS } from './defaults.js'

describe('resolveProducerConfig', () => {
  it('fills the KPL defaults', () => {
    const config = resolveProducerConfig({ streamName: 's' })
    expect(config).toMatchObject({
      aggregationEnabled: true,
      aggregationMaxCount: 4_294_967_295,
      aggregationMaxSize: 51_200,
      collectionMaxCount: 500,
      collectionMaxSize: 5 * 1024 * 1024,
      recordMaxBufferedTime: 100,
      recordTtl: 30_000,
      rateLimit: 150,
      failIfThrottled: false,
      maxConnections: 24,
      requestTimeout: 6_000,
      maxUserRecordSize: 1024 * 1024,
      maxOutstandingRecords: PRODUCER_DEFAULTS.maxOutstandingRecords,
      maxBufferedBytes: PRODUCER_DEFAULTS.maxBufferedBytes,
      tracing: false,
    })
  })

  const arn = 'arn:aws:kinesis:us-east-1:1:stream/s'
  it.each<[options: Record<string, unknown>, option: string, allowed: string, received: string]>([
    [{ collectionMaxCount: 501 }, 'collectionMaxCount', 'an integer in [1, 500]', '501'],
    [{ collectionMaxSize: 6 * 1024 * 1024 }, 'collectionMaxSize', 'an integer in [1024, 5242880]', '6291456'],
    [{ aggregationMaxSize: 2 * 1024 * 1024 }, 'aggregationMaxSize', 'an integer in [64, 1048576]', '2097152'],
    [{ rateLimit: 0 }, 'rateLimit', 'an integer in [1, 1000000]', '0'],
    [{ recordTtl: 1.5 }, 'recordTtl', 'an integer number of milliseconds in [100, 86400000]', '1.5'],
    [{ failIfThrottled: 'yes' }, 'failIfThrottled', 'true or false', '"yes"'],
    [{ preserveOrder: 'no' }, 'preserveOrder', 'true or false', '"no"'],
    [{ tracing: 1 }, 'tracing', 'true or false', '1'],
    [{ region: '' }, 'region', 'a non-empty string', '""'],
    [{ streamName: 's', streamARN: arn }, 'streamARN', 'either streamName or streamARN, not both', JSON.stringify(arn)],
    [
      { retryBackoffBaseMillis: 500, retryBackoffMaxMillis: 400 },
      'retryBackoffMaxMillis',
      'at least retryBackoffBaseMillis (500)',
      '400',
    ],
    [
      { aggregationMaxSize: 1_000_000, collectionMaxSize: 500_000 },
      'collectionMaxSize',
      'at least aggregationMaxSize + 1 (1000001): an aggregate must fit in one request',
      '500000',
    ],
  ])('rejects %o naming %s, what is allowed and the value', (options, option, allowed, received) => {
    let error: unknown
    try {
      resolveProducerConfig(options as never)
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(ConfigurationError)
    expect(error).toMatchObject({ code: 'ERR_INVALID_CONFIG', option, allowed })
    expect((error as Error).message).toBe(`Invalid option ${option}: expected ${allowed} (received ${received})`)
  })
})

describe('KinesisProducer construction', () => {
  it('rejects a bad cloudWatch option before opening any socket, naming the option', async () => {
    const { KinesisProducer } = await import('./kinesis-producer.js')
    const create = () => new KinesisProducer({ streamName: 's', region: 'us-east-1', cloudWatch: { namespace: '' } })
    expect(create).toThrow(ConfigurationError)
    expect(create).toThrow(/cloudWatch\.namespace/)
  })
})

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
    })
  })

  it.each([
    [{ collectionMaxCount: 501 }, 'collectionMaxCount', /\[1, 500\]/],
    [{ collectionMaxSize: 6 * 1024 * 1024 }, 'collectionMaxSize', /5242880/],
    [{ aggregationMaxSize: 2 * 1024 * 1024 }, 'aggregationMaxSize', /1048576/],
    [{ rateLimit: 0 }, 'rateLimit', /\[1, /],
    [{ recordTtl: 1.5 }, 'recordTtl', /integer/],
    [{ failIfThrottled: 'yes' }, 'failIfThrottled', /true or false/],
    [{ preserveOrder: 'no' }, 'preserveOrder', /true or false/],
    [{ streamName: 's', streamARN: 'arn:aws:kinesis:us-east-1:1:stream/s' }, 'streamARN', /not both/],
    [{ aggregationMaxSize: 1_000_000, collectionMaxSize: 500_000 }, 'collectionMaxSize', /aggregationMaxSize/],
  ])('rejects %o naming %s', (options, option, allowed) => {
    let error: unknown
    try {
      resolveProducerConfig(options as never)
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(ConfigurationError)
    expect(error).toMatchObject({ code: 'ERR_INVALID_CONFIG', option })
    expect((error as Error).message).toMatch(allowed)
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

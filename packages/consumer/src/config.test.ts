import { ConfigurationError } from '@kinesis-ts/shared'
import { describe, expect, it } from 'vitest'
import { type KinesisConsumerOptions, resolveConsumerConfig } from './config.js'
import type { ShardRecordProcessor } from './types.js'

const processorFactory = () => ({}) as ShardRecordProcessor
const deadLetter = () => {}
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
      tracing: false,
    })
    expect(errorOf({ tracing: 'yes' as unknown as boolean })).toMatchObject({
      option: 'tracing',
      allowed: 'true or false',
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

  const NAME = 'characters of [a-zA-Z0-9_.-]'
  it.each<[options: Partial<KinesisConsumerOptions>, option: string, allowed: string, received?: string]>([
    [{ streamName: '' }, 'streamName', `a string of 1 to 128 ${NAME}`, '""'],
    [{ streamName: 'has space' }, 'streamName', `a string of 1 to 128 ${NAME}`, '"has space"'],
    [{ applicationName: 'ab' }, 'applicationName', `a string of 3 to 255 ${NAME}`, '"ab"'],
    [{ maxRecords: 10_001 }, 'maxRecords', 'an integer in [1, 10000]', '10001'],
    [{ maxRecords: 0 }, 'maxRecords', 'an integer in [1, 10000]', '0'],
    [{ failoverTimeMillis: 50 }, 'failoverTimeMillis', 'an integer number of milliseconds, at least 100', '50'],
    [{ failoverTimeMillis: 1.5 }, 'failoverTimeMillis', 'an integer number of milliseconds, at least 100', '1.5'],
    [{ maxLeasesToStealAtOneTime: 0 }, 'maxLeasesToStealAtOneTime', 'an integer, at least 1', '0'],
    [
      { initialPosition: 'EARLIEST' as never },
      'initialPosition',
      "'LATEST', 'TRIM_HORIZON' or { atTimestamp: Date }",
      '"EARLIEST"',
    ],
    [
      { initialPosition: { atTimestamp: new Date(Number.NaN) } },
      'initialPosition',
      "'LATEST', 'TRIM_HORIZON' or { atTimestamp: Date }",
      'object',
    ],
    [{ processingErrorPolicy: 'ignore' as never }, 'processingErrorPolicy', "'retry' or 'skip'", '"ignore"'],
    [
      { processingErrorPolicy: 7 as never },
      'processingErrorPolicy',
      "'retry', 'skip' or { maxAttempts, bisectOnError?, deadLetter }",
      '7',
    ],
    [{ processingErrorPolicy: { deadLetter } as never }, 'processingErrorPolicy.maxAttempts', 'an integer in [1, 100]'],
    [
      { processingErrorPolicy: { maxAttempts: 0, deadLetter } },
      'processingErrorPolicy.maxAttempts',
      'an integer in [1, 100]',
      '0',
    ],
    [
      { processingErrorPolicy: { maxAttempts: 3 } as never },
      'processingErrorPolicy.deadLetter',
      'a function (poison: PoisonRecord) => Promise<void> | void',
    ],
    [
      { processingErrorPolicy: { maxAttempts: 3, deadLetter: 'dlq' as never } },
      'processingErrorPolicy.deadLetter',
      'a function (poison: PoisonRecord) => Promise<void> | void',
      '"dlq"',
    ],
    [
      { processingErrorPolicy: { maxAttempts: 3, deadLetter, bisectOnError: 'no' as never } },
      'processingErrorPolicy.bisectOnError',
      'true or false',
      '"no"',
    ],
    [
      { cleanupLeasesUponShardCompletion: 'yes' as never },
      'cleanupLeasesUponShardCompletion',
      'true or false',
      '"yes"',
    ],
    [{ processorFactory: undefined }, 'processorFactory', 'exactly one of processorFactory and processorModule'],
    [{ processorModule: 'x.js' }, 'processorFactory', 'exactly one of processorFactory and processorModule'],
    [{ workerThreads: 2 }, 'workerThreads', 'workerThreads and lanesPerShard only with processorModule'],
    [{ retrieval: { mode: 'push' } as never }, 'retrieval.mode', "'polling' or 'fanout'", '"push"'],
    [{ retrieval: { mode: 'fanout', httpVersion: '3' as never } }, 'retrieval.httpVersion', "'1.1' or '2'", '"3"'],
    [
      { processingRetryBackoffBaseMillis: 100, processingRetryBackoffMaxMillis: 50 },
      'processingRetryBackoffMaxMillis',
      'at least processingRetryBackoffBaseMillis (100)',
      '50',
    ],
    [
      { getRecordsBackoffBaseMillis: 300, getRecordsBackoffMaxMillis: 299 },
      'getRecordsBackoffMaxMillis',
      'at least getRecordsBackoffBaseMillis (300)',
      '299',
    ],
  ])('rejects %o naming %s, what is allowed and the value', (options, option, allowed, received) => {
    const error = errorOf(options)
    expect(error).toMatchObject({ code: 'ERR_INVALID_CONFIG', option, allowed })
    const value = received === undefined ? '' : ` (received ${received})`
    expect(error.message).toBe(`Invalid option ${option}: expected ${allowed}${value}`)
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

  it('resolves the dead-letter form of processingErrorPolicy: bisectOnError defaults to true', () => {
    const policy = resolveConsumerConfig({
      ...base,
      processingErrorPolicy: { maxAttempts: 3, deadLetter },
    }).processingErrorPolicy
    expect(policy).toEqual({ maxAttempts: 3, bisectOnError: true, deadLetter })
    expect(Object.isFrozen(policy)).toBe(true)
    expect(
      resolveConsumerConfig({ ...base, processingErrorPolicy: { maxAttempts: 1, bisectOnError: false, deadLetter } })
        .processingErrorPolicy,
    ).toEqual({ maxAttempts: 1, bisectOnError: false, deadLetter })
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

  it('resolves the KCL 3.x options with the Java defaults (the assignment interval follows failoverTimeMillis)', () => {
    // Unset stays unset: start() chooses it from the lease table.
    expect(resolveConsumerConfig(base).clientVersionConfig).toBeUndefined()
    expect(resolveConsumerConfig(base)).toMatchObject({
      leaseAssignmentIntervalMillis: 20_000,
      workerMetricsReporterFreqInMillis: 30_000,
      dynamoDbLockBasedLeaderLeaseDurationInMillis: 120_000,
      dynamoDbLockBasedLeaderHeartbeatPeriodInMillis: 30_000,
      gracefulLeaseHandoffTimeoutMillis: 30_000,
      reBalanceThresholdPercentage: 10,
      dampeningPercentage: 60,
      allowThroughputOvershoot: true,
      varianceBalancingFrequency: 3,
      workerMetricsEMAAlpha: 0.5,
      maxThroughputPerHostKBps: Number.POSITIVE_INFINITY,
    })
    const fast = resolveConsumerConfig({ ...base, failoverTimeMillis: 1_500, clientVersionConfig: 'compatibleWith2x' })
    expect(fast).toMatchObject({ leaseAssignmentIntervalMillis: 3_000, clientVersionConfig: 'compatibleWith2x' })
    expect(
      resolveConsumerConfig({ ...base, workerMetricsEMAAlpha: 1, maxThroughputPerHostKBps: 2_048.5 }),
    ).toMatchObject({ workerMetricsEMAAlpha: 1, maxThroughputPerHostKBps: 2_048.5 })
  })

  it('refuses bad KCL 3.x options, naming the option and the limit', () => {
    expect(errorOf({ clientVersionConfig: '2x' as never }).message).toBe(
      "Invalid option clientVersionConfig: expected '3x', 'compatibleWith2x' or 'compatibleWith2xPhase1' (received \"2x\")",
    )
    const lock = errorOf({
      dynamoDbLockBasedLeaderLeaseDurationInMillis: 50_000,
      dynamoDbLockBasedLeaderHeartbeatPeriodInMillis: 30_000,
    })
    expect(lock.option).toBe('dynamoDbLockBasedLeaderLeaseDurationInMillis')
    expect(lock.allowed).toContain('60000')
    expect(errorOf({ workerMetricsEMAAlpha: 0 }).allowed).toBe('a number above 0 and at most 1')
    expect(errorOf({ workerMetricsEMAAlpha: Number.NaN }).option).toBe('workerMetricsEMAAlpha')
    expect(errorOf({ maxThroughputPerHostKBps: -1 }).allowed).toBe('a number above 0')
    expect(errorOf({ reBalanceThresholdPercentage: 101 }).option).toBe('reBalanceThresholdPercentage')
    expect(errorOf({ dampeningPercentage: 0 }).option).toBe('dampeningPercentage')
    expect(errorOf({ varianceBalancingFrequency: 1.5 }).option).toBe('varianceBalancingFrequency')
    expect(errorOf({ gracefulLeaseHandoffTimeoutMillis: -1 }).option).toBe('gracefulLeaseHandoffTimeoutMillis')
    expect(errorOf({ allowThroughputOvershoot: 'yes' as never }).option).toBe('allowThroughputOvershoot')
    expect(errorOf({ workerMetricsReporterFreqInMillis: 500 }).option).toBe('workerMetricsReporterFreqInMillis')
    expect(errorOf({ leaseAssignmentIntervalMillis: 10 }).option).toBe('leaseAssignmentIntervalMillis')
  })
})

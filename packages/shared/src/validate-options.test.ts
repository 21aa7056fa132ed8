import { describe, expect, it } from 'vitest'
import { ConfigurationError } from './errors.js'
import {
  booleanOption,
  durationOption,
  functionOption,
  integerOption,
  notBelow,
  oneOf,
  requiredIntegerOption,
  requiredStringOption,
  stringOption,
} from './validate-options.js'

/** The error `check` throws; fails the test when it throws none or another kind. */
function errorOf(check: () => unknown): ConfigurationError {
  try {
    check()
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError)
    return error as ConfigurationError
  }
  throw new Error('expected a ConfigurationError')
}

describe('option checks: one message, naming the option, what is allowed and the value', () => {
  const cases: Array<[option: string, allowed: string, received: string, check: () => unknown]> = [
    [
      'collectionMaxCount',
      'an integer in [1, 500]',
      '501',
      () => integerOption('collectionMaxCount', 501, 500, 1, 500),
    ],
    ['rateLimit', 'an integer in [1, 1000000]', '1.5', () => integerOption('rateLimit', 1.5, 150, 1, 1_000_000)],
    ['maxLeasesForWorker', 'an integer, at least 1', '0', () => integerOption('maxLeasesForWorker', 0, 1, 1)],
    ['maxRecords', 'an integer in [1, 10000]', '"10"', () => integerOption('maxRecords', '10', 1, 1, 10_000)],
    [
      'retrieval.stallTimeoutMs',
      'an integer number of milliseconds in [10, 86400000]',
      '5',
      () => durationOption('retrieval.stallTimeoutMs', 5, 60_000, 10, 86_400_000),
    ],
    [
      'failoverTimeMillis',
      'an integer number of milliseconds, at least 40',
      '-1',
      () => durationOption('failoverTimeMillis', -1, 10_000, 40),
    ],
    ['failIfThrottled', 'true or false', '"yes"', () => booleanOption('failIfThrottled', 'yes', false)],
    ['retrieval.httpVersion', "'1.1' or '2'", '"3"', () => oneOf('retrieval.httpVersion', '3', ['1.1', '2'], '2')],
    [
      'retrieval.mode',
      "'polling', 'fanout' or 'replay'",
      '"push"',
      () => oneOf('retrieval.mode', 'push', ['polling', 'fanout', 'replay']),
    ],
    ['region', 'a non-empty string', '""', () => stringOption('region', '')],
    ['namespace', 'a string of 1 to 255 characters', '7', () => stringOption('namespace', 7, { maxLength: 255 })],
    [
      'streamName',
      'a string of 1 to 128 characters of [a-z]',
      '"has space"',
      () =>
        requiredStringOption('streamName', 'has space', {
          maxLength: 128,
          pattern: { test: /^[a-z]+$/, characters: '[a-z]' },
        }),
    ],
    [
      'processingErrorPolicy.maxAttempts',
      'an integer in [1, 100]',
      '0',
      () => requiredIntegerOption('processingErrorPolicy.maxAttempts', 0, 1, 100),
    ],
    [
      'processingErrorPolicy.deadLetter',
      'a function (poison) => void',
      '"dlq"',
      () => functionOption('processingErrorPolicy.deadLetter', 'dlq', 'a function (poison) => void', true),
    ],
    ['backoffMaxMs', 'at least backoffBaseMs (200)', '100', () => notBelow('backoffMaxMs', 100, 'backoffBaseMs', 200)],
  ]
  it.each(cases)('%s: expected %s (received %s)', (option, allowed, received, check) => {
    const error = errorOf(check)
    expect(error).toMatchObject({ code: 'ERR_INVALID_CONFIG', option, allowed })
    expect(error.message).toBe(`Invalid option ${option}: expected ${allowed} (received ${received})`)
  })

  it('a pattern that does not match is refused, whatever the length', () => {
    const rule = { maxLength: 128, pattern: { test: /^[a-z]+$/, characters: '[a-z]' } }
    expect(errorOf(() => requiredStringOption('streamName', 'Orders', rule)).option).toBe('streamName')
    expect(requiredStringOption('streamName', 'orders', rule)).toBe('orders')
  })

  it('refuses a required option that is absent, and a oneOf without a default', () => {
    expect(errorOf(() => requiredStringOption('streamName', undefined)).message).toBe(
      'Invalid option streamName: expected a non-empty string',
    )
    expect(errorOf(() => oneOf('retrieval.mode', undefined, ['polling', 'fanout'])).message).toBe(
      "Invalid option retrieval.mode: expected 'polling' or 'fanout'",
    )
    expect(errorOf(() => requiredIntegerOption('maxAttempts', undefined, 1, 100)).message).toBe(
      'Invalid option maxAttempts: expected an integer in [1, 100]',
    )
    expect(errorOf(() => functionOption('deadLetter', undefined, 'a function', true)).message).toBe(
      'Invalid option deadLetter: expected a function',
    )
  })

  it('takes the default when absent and the value, unchanged, when it is allowed', () => {
    expect(integerOption('n', undefined, 7, 1, 10)).toBe(7)
    expect(integerOption('n', 10, 7, 1, 10)).toBe(10)
    expect(integerOption('n', 1, 7, 1, 10)).toBe(1)
    expect(durationOption('ms', 0, 5, 0)).toBe(0)
    expect(booleanOption('b', undefined, true)).toBe(true)
    expect(booleanOption('b', false, true)).toBe(false)
    expect(oneOf('v', undefined, ['1.1', '2'], '2')).toBe('2')
    expect(oneOf('v', '1.1', ['1.1', '2'], '2')).toBe('1.1')
    expect(stringOption('s', undefined)).toBeUndefined()
    expect(stringOption('s', 'x'.repeat(255), { maxLength: 255 })).toBe('x'.repeat(255))
    expect(notBelow('max', 200, 'base', 200)).toBe(200)
    expect(requiredIntegerOption('n', 100, 1, 100)).toBe(100)
    const f = () => {}
    expect(functionOption('f', f, 'a function')).toBe(f)
    expect(functionOption('f', undefined, 'a function')).toBeUndefined()
  })
})

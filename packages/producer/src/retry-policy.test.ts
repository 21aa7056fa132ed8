import { describe, expect, it } from 'vitest'
import { classifyEntryError } from './retry-policy.js'

describe('classifyEntryError', () => {
  it.each([
    ['ProvisionedThroughputExceededException', true, true],
    ['KMSThrottlingException', true, true],
    ['InternalFailure', true, false],
    ['ServiceUnavailable', true, false],
    ['KMSDisabledException', false, false],
    ['KMSAccessDeniedException', false, false],
    ['KMSNotFoundException', false, false],
    ['KMSInvalidStateException', false, false],
    ['KMSOptInRequired', false, false],
    ['ResourceNotFoundException', false, false],
    ['AccessDeniedException', false, false],
    ['ValidationException', false, false],
    ['InvalidArgumentException', false, false],
  ])('%s: the shared table says retriable %s, throttled %s', (code, retriable, throttled) => {
    expect(classifyEntryError(code)).toEqual({ retriable, throttled })
  })

  it.each(['SomethingNewException', 'constructor', ''])(
    'retries a code the table does not list (%j) until recordTtl',
    (code) => {
      expect(classifyEntryError(code)).toEqual({ retriable: true, throttled: false })
    },
  )
})

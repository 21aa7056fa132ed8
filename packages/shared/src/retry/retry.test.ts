import { afterEach, describe, expect, it, vi } from 'vitest'
import { AbortedError, AwsCallError } from '../errors.js'
import { backoffDelay, sleep } from './backoff.js'
import { classifyError, toAwsCallError } from './classify.js'

describe('backoffDelay (full jitter)', () => {
  it('draws from [0, min(max, base * 2^attempt))', () => {
    const options = { baseMs: 100, maxMs: 5_000 }
    expect(backoffDelay(0, { ...options, random: () => 0.999 })).toBe(99)
    expect(backoffDelay(3, { ...options, random: () => 0.5 })).toBe(400)
    expect(backoffDelay(10, { ...options, random: () => 0.999 })).toBe(4995)
    expect(backoffDelay(1_000, { ...options, random: () => 0.999 })).toBe(4995)
    expect(backoffDelay(5, { ...options, random: () => 0 })).toBe(0)
  })
})

describe('sleep', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('resolves after the delay', async () => {
    vi.useFakeTimers()
    let done = false
    const pending = sleep(1_000).then(() => {
      done = true
    })
    await vi.advanceTimersByTimeAsync(999)
    expect(done).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    await pending
    expect(done).toBe(true)
  })

  it('rejects at once on abort and leaves no timer behind', async () => {
    vi.useFakeTimers()
    const controller = new AbortController()
    const pending = sleep(60_000, controller.signal)
    expect(vi.getTimerCount()).toBe(1)
    controller.abort()
    await expect(pending).rejects.toBeInstanceOf(AbortedError)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('rejects immediately when already aborted', async () => {
    await expect(sleep(10, AbortSignal.abort())).rejects.toMatchObject({ code: 'ERR_ABORTED' })
  })
})

const sdkError = (name: string, status?: number, extra: object = {}) =>
  Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: status }, ...extra })

describe('classifyError', () => {
  it.each([
    ['ProvisionedThroughputExceededException', 400, true, true],
    ['ThrottlingException', 400, true, true],
    ['LimitExceededException', 400, true, true],
    ['KMSThrottlingException', 400, true, true],
    ['InternalFailure', 500, true, false],
    ['ServiceUnavailable', 503, true, false],
    ['ResourceNotFoundException', 400, false, false],
    ['AccessDeniedException', 400, false, false],
    ['ValidationException', 400, false, false],
    ['InvalidArgumentException', 400, false, false],
    ['KMSDisabledException', 400, false, false],
    ['KMSAccessDeniedException', 400, false, false],
    ['KMSNotFoundException', 400, false, false],
    ['ConditionalCheckFailedException', 400, false, false],
    ['SomethingNew', 502, true, false],
    ['SomethingNew', 429, true, true],
    ['SomethingElse', 400, false, false],
  ])('%s (HTTP %s) → retriable %s, throttled %s', (name, status, retriable, throttled) => {
    expect(classifyError(sdkError(name, status))).toEqual({ code: name, retriable, throttled })
  })

  it('treats network faults below the SDK as retriable', () => {
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })
    expect(classifyError(reset)).toMatchObject({ code: 'ECONNRESET', retriable: true })
    const hangUp = new Error('socket hang up')
    expect(classifyError(hangUp)).toMatchObject({ retriable: true })
    const timeout = Object.assign(new Error('timed out'), { name: 'TimeoutError' })
    expect(classifyError(timeout)).toMatchObject({ code: 'TimeoutError', retriable: true })
  })

  it("follows the SDK's $retryable hint for names it does not know", () => {
    expect(classifyError(sdkError('Odd', undefined, { $retryable: { throttling: true } }))).toEqual({
      code: 'Odd',
      retriable: true,
      throttled: true,
    })
  })

  it('wraps into an AwsCallError keeping cause and classification', () => {
    const cause = sdkError('ProvisionedThroughputExceededException', 400)
    const wrapped = toAwsCallError('PutRecords', cause)
    expect(wrapped).toBeInstanceOf(AwsCallError)
    expect(wrapped).toMatchObject({ code: 'ERR_AWS', awsCode: cause.name, retriable: true, throttled: true })
    expect(wrapped.cause).toBe(cause)
    expect(classifyError(wrapped).code).toBe(cause.name)
  })

  it('does not take an Object.prototype member for a listed name', () => {
    expect(classifyError(sdkError('constructor', 400))).toEqual({
      code: 'constructor',
      retriable: false,
      throttled: false,
    })
    expect(classifyError(Object.assign(new Error('x'), { code: 'toString' }))).toMatchObject({ retriable: false })
  })

  it('keeps the verdict our own errors carry', () => {
    // A 503 with a name nobody lists: retriable by status, and still so once wrapped.
    const wrapped = toAwsCallError('ListShards', sdkError('SomethingNew', 503))
    expect(classifyError(wrapped)).toEqual({ code: 'SomethingNew', retriable: true, throttled: false })
    expect(classifyError(new AbortedError('stop'))).toMatchObject({ code: 'ERR_ABORTED', retriable: false })
  })
})

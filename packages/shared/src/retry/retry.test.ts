import { afterEach, describe, expect, it, vi } from 'vitest'
import { AbortedError, AwsCallError } from '../errors.js'
import { backoffDelay, sleep } from './backoff.js'
import { classifyError, toAwsCallError } from './classify.js'
import { retry } from './retry.js'

describe('backoffDelay (full jitter)', () => {
  it('draws from [0, min(max, base * 2^attempt))', () => {
    const options = { baseMs: 100, maxMs: 5_000 }
    expect(backoffDelay(0, { ...options, random: () => 0.999 })).toBe(99)
    expect(backoffDelay(3, { ...options, random: () => 0.5 })).toBe(400)
    expect(backoffDelay(10, { ...options, random: () => 0.999 })).toBe(4995)
    expect(backoffDelay(1_000, { ...options, random: () => 0.999 })).toBe(4995)
    expect(backoffDelay(5, { ...options, random: () => 0 })).toBe(0)
  })

  it('waits the ceiling itself without jitter: a fixed pause when base and max agree', () => {
    expect(backoffDelay(0, { baseMs: 100, maxMs: 5_000, jitter: 'none' })).toBe(100)
    expect(backoffDelay(4, { baseMs: 100, maxMs: 5_000, jitter: 'none' })).toBe(1_600)
    expect(backoffDelay(9, { baseMs: 250, maxMs: 250, jitter: 'none' })).toBe(250)
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

describe('retry', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  const throttled = () => sdkError('ThrottlingException', 400)
  /** A call that fails with `failures` in turn, then resolves 'done'; counts its calls. */
  function scripted(...failures: Error[]) {
    const calls: number[] = []
    const fn = async (attempt: number) => {
      calls.push(attempt)
      const failure = failures.shift()
      if (failure !== undefined) throw failure
      return 'done'
    }
    return { fn, calls }
  }

  it('calls again after each retriable failure, pausing by full-jitter backoff, and returns the result', async () => {
    vi.useFakeTimers()
    const { fn, calls } = scripted(throttled(), throttled(), throttled())
    const retries: Array<{ attempt: number; delayMs: number }> = []
    const result = retry(fn, {
      baseMs: 100,
      maxMs: 300,
      random: () => 0.5,
      onRetry: (_error, info) => retries.push(info),
    })
    expect(calls).toEqual([1])
    await vi.advanceTimersByTimeAsync(49)
    expect(calls).toEqual([1])
    await vi.advanceTimersByTimeAsync(1)
    expect(calls).toEqual([1, 2])
    await vi.advanceTimersByTimeAsync(100 + 150)
    await expect(result).resolves.toBe('done')
    expect(calls).toEqual([1, 2, 3, 4])
    expect(retries).toEqual([
      { attempt: 1, delayMs: 50 },
      { attempt: 2, delayMs: 100 },
      { attempt: 3, delayMs: 150 },
    ])
    expect(vi.getTimerCount()).toBe(0)
  })

  it('gives up after maxAttempts calls with the last failure', async () => {
    vi.useFakeTimers()
    const last = throttled()
    const { fn, calls } = scripted(throttled(), throttled(), last, throttled())
    const result = retry(fn, { baseMs: 10, maxMs: 10, jitter: 'none', maxAttempts: 3 })
    const settled = result.catch((error: unknown) => error)
    await vi.advanceTimersByTimeAsync(20)
    expect(await settled).toBe(last)
    expect(calls).toEqual([1, 2, 3])
  })

  it('rethrows a failure that is not retriable without another call (classifyError by default)', async () => {
    const invalid = sdkError('ValidationException', 400)
    const { fn, calls } = scripted(invalid)
    await expect(retry(fn, { baseMs: 10, maxMs: 10 })).rejects.toBe(invalid)
    expect(calls).toEqual([1])
    const odd = new Error('odd')
    const custom = scripted(odd, odd)
    await expect(retry(custom.fn, { baseMs: 0, maxMs: 0, isRetriable: (error) => error !== odd })).rejects.toBe(odd)
    expect(custom.calls).toEqual([1])
  })

  it('an abort ends the pending pause at once with AbortedError, no timer left and no further call', async () => {
    vi.useFakeTimers()
    const controller = new AbortController()
    const { fn, calls } = scripted(throttled(), throttled())
    const result = retry(fn, { baseMs: 60_000, maxMs: 60_000, jitter: 'none', signal: controller.signal })
    const settled = result.catch((error: unknown) => error)
    await vi.advanceTimersByTimeAsync(1)
    expect(vi.getTimerCount()).toBe(1)
    controller.abort('stop')
    expect(await settled).toBeInstanceOf(AbortedError)
    expect(vi.getTimerCount()).toBe(0)
    expect(calls).toEqual([1])
  })

  it('never calls with a signal already aborted, and rethrows what the call threw when it aborted meanwhile', async () => {
    const never = scripted()
    await expect(retry(never.fn, { baseMs: 1, maxMs: 1, signal: AbortSignal.abort() })).rejects.toBeInstanceOf(
      AbortedError,
    )
    expect(never.calls).toEqual([])
    const controller = new AbortController()
    const cut = Object.assign(new Error('aborted'), { name: 'AbortError' })
    const fn = async () => {
      controller.abort()
      throw cut
    }
    await expect(retry(fn, { baseMs: 1, maxMs: 1, signal: controller.signal, isRetriable: () => true })).rejects.toBe(
      cut,
    )
  })
})

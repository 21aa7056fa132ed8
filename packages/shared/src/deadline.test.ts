import { afterEach, describe, expect, it, vi } from 'vitest'
import { withDeadline } from './deadline.js'
import { CallTimeoutError } from './errors.js'

afterEach(() => {
  vi.useRealTimers()
})

describe('withDeadline', () => {
  it('rejects with CallTimeoutError at the deadline, aborts the call and leaves no timer', async () => {
    vi.useFakeTimers()
    let seen: AbortSignal | undefined
    const hung = withDeadline('UpdateItem', 2_500, undefined, (signal) => {
      seen = signal
      return new Promise<never>(() => {})
    })
    const outcome = hung.catch((error: unknown) => error)
    await vi.advanceTimersByTimeAsync(2_499)
    expect(seen?.aborted).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    const error = await outcome
    expect(error).toBeInstanceOf(CallTimeoutError)
    expect((error as CallTimeoutError).code).toBe('ERR_TIMEOUT')
    expect((error as CallTimeoutError).retriable).toBe(true)
    expect((error as CallTimeoutError).message).toBe('UpdateItem did not answer within 2500 ms')
    expect(seen?.aborted).toBe(true)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('answers what the call answers and clears its timer', async () => {
    vi.useFakeTimers()
    await expect(withDeadline('GetItem', 1_000, undefined, async () => 42)).resolves.toBe(42)
    await expect(
      withDeadline('GetItem', 1_000, undefined, async () => Promise.reject(new Error('no'))),
    ).rejects.toThrow('no')
    expect(vi.getTimerCount()).toBe(0)
  })

  it('passes the caller abort through, with the error the call threw', async () => {
    const outer = new AbortController()
    const call = withDeadline('Scan', 60_000, outer.signal, (signal) => {
      return new Promise<never>((_, reject) => {
        signal?.addEventListener('abort', () => reject(new Error('aborted by caller')))
      })
    })
    outer.abort()
    await expect(call).rejects.toThrow('aborted by caller')
  })

  it('with 0 runs the call as it is', async () => {
    const outer = new AbortController()
    await expect(
      withDeadline('Scan', 0, outer.signal, async (signal) => {
        expect(signal).toBe(outer.signal)
        return 'ok'
      }),
    ).resolves.toBe('ok')
  })
})

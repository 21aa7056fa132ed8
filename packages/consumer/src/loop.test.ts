import { afterEach, describe, expect, it, vi } from 'vitest'
import { runEvery } from './loop.js'

afterEach(() => {
  vi.useRealTimers()
})

describe('runEvery', () => {
  it('runs on its interval, survives a failing run, and stops on abort leaving no timer', async () => {
    vi.useFakeTimers()
    const controller = new AbortController()
    const runs: number[] = []
    const errors: unknown[] = []
    const loop = runEvery(
      1_000,
      controller.signal,
      async () => {
        runs.push(Date.now())
        if (runs.length === 2) throw new Error('boom')
      },
      (error) => errors.push(error),
    )
    await vi.advanceTimersByTimeAsync(3_500)
    expect(runs).toHaveLength(4)
    expect(errors).toHaveLength(1)
    controller.abort()
    await loop
    expect(vi.getTimerCount()).toBe(0)
  })
})

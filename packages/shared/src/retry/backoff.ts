import { AbortedError } from '../errors.js'

export interface BackoffOptions {
  /** Delay cap for the first retry, in ms. */
  readonly baseMs: number
  /** Largest delay, in ms. */
  readonly maxMs: number
  /** A source of randomness in [0, 1); injectable for tests. */
  readonly random?: (() => number) | undefined
  /**
   * 'full' (the default) draws each delay below the ceiling; 'none' waits the ceiling itself, for
   * a fixed pause that a configuration names (baseMs === maxMs), as the Java KCL's initialization does.
   */
  readonly jitter?: 'full' | 'none' | undefined
}

/**
 * "Full jitter" exponential backoff: a delay drawn uniformly from [0, min(max, base * 2^attempt)).
 * Spreads retries of many clients apart, which plain exponential backoff does not.
 * `attempt` counts retries from 0.
 */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(attempt, 30))
  if (options.jitter === 'none') return ceiling
  return Math.floor((options.random ?? Math.random)() * ceiling)
}

/**
 * Waits `ms` milliseconds; rejects with AbortedError as soon as `signal` aborts and clears its
 * timer either way, so a cancelled loop leaves nothing behind.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(new AbortedError(signal.reason))
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(new AbortedError(signal?.reason))
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

import { AbortedError } from '../errors.js'
import { type BackoffOptions, backoffDelay, sleep } from './backoff.js'
import { classifyError } from './classify.js'

export interface RetryOptions extends BackoffOptions {
  /** Stops the retrying: a pending pause ends at once, with AbortedError. */
  readonly signal?: AbortSignal | undefined
  /** Calls in all, the first included; no limit when absent. */
  readonly maxAttempts?: number | undefined
  /** Whether another call may succeed after `error`; classifyError's verdict when absent. */
  readonly isRetriable?: ((error: unknown) => boolean) | undefined
  /** Told before each pause: the error, which call failed (from 1) and how long the pause is. */
  readonly onRetry?:
    | ((error: unknown, retry: { readonly attempt: number; readonly delayMs: number }) => void)
    | undefined
}

/**
 * Calls `fn` until it resolves; after a retriable failure, pauses (backoffDelay: full-jitter
 * exponential unless `jitter: 'none'`) and calls again. Rethrows the failure that is not retriable,
 * the one of the last allowed attempt, and whatever `fn` threw once `signal` aborted. A pause holds
 * one timer, cleared when the signal aborts, so nothing is left behind.
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const { signal, maxAttempts = Number.POSITIVE_INFINITY } = options
  const isRetriable = options.isRetriable ?? ((error: unknown) => classifyError(error).retriable)
  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw new AbortedError(signal.reason)
    try {
      return await fn(attempt)
    } catch (error) {
      if (signal?.aborted || attempt >= maxAttempts || !isRetriable(error)) throw error
      const delayMs = backoffDelay(attempt - 1, options)
      options.onRetry?.(error, { attempt, delayMs })
      await sleep(delayMs, signal)
    }
  }
}

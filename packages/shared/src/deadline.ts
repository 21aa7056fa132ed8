import { CallTimeoutError } from './errors.js'

/**
 * Runs `call` with a signal that aborts when `timeoutMs` passes or `signal` aborts, whichever comes
 * first; the timer is cleared when the call settles, so nothing outlives it. A call cut short by its
 * deadline rejects with CallTimeoutError (retriable), whatever the aborted call threw; one cut short
 * by `signal` rejects with what the call threw. `timeoutMs` 0 means no deadline.
 *
 * Every AWS call the consumer makes goes through this: a hung request (a half-open socket, a proxy
 * that never answers) must not freeze the loop that made it.
 */
export async function withDeadline<T>(
  operation: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  call: (signal: AbortSignal | undefined) => Promise<T>,
): Promise<T> {
  if (timeoutMs <= 0) return call(signal)
  const controller = new AbortController()
  const onAbort = () => controller.abort(signal?.reason)
  if (signal?.aborted) onAbort()
  else signal?.addEventListener('abort', onAbort, { once: true })
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    // Raced, not only aborted: a call that ignores its signal still ends at the deadline for the caller.
    return await new Promise<T>((resolve, reject) => {
      let timedOut = false
      timer = setTimeout(() => {
        timedOut = true
        const error = new CallTimeoutError(operation, timeoutMs)
        controller.abort(error)
        reject(error)
      }, timeoutMs)
      call(controller.signal).then(resolve, (error: unknown) =>
        reject(timedOut ? new CallTimeoutError(operation, timeoutMs) : error),
      )
    })
  } finally {
    clearTimeout(timer)
    signal?.removeEventListener('abort', onAbort)
  }
}

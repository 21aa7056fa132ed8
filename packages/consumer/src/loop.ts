import { AbortedError, sleep } from '@kinesis-ts/shared'

/**
 * Runs `task` every `intervalMs` (measured from the start of each run, so a slow run does not push
 * the next one back further) until `signal` aborts. A failing run is reported and the loop goes on;
 * the returned promise resolves once the loop has stopped, with no timer left behind.
 */
export async function runEvery(
  intervalMs: number,
  signal: AbortSignal,
  task: () => Promise<void>,
  onError: (error: unknown) => void,
): Promise<void> {
  while (!signal.aborted) {
    const started = performance.now()
    try {
      await task()
    } catch (error) {
      if (signal.aborted) break
      onError(error)
    }
    if (!(await pause(intervalMs - (performance.now() - started), signal))) break
  }
}

/** Sleeps unless aborted; false when `signal` aborted (the caller stops). */
export async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  // No timer for nothing: the hot GetRecords loop pauses for 0 ms when calls are slower than the idle time.
  if (ms <= 0) return !signal.aborted
  try {
    await sleep(Math.max(0, ms), signal)
    return true
  } catch (error) {
    if (error instanceof AbortedError) return false
    throw error
  }
}

export function isAborted(error: unknown, signal?: AbortSignal): boolean {
  return (
    error instanceof AbortedError || signal?.aborted === true || (error as Error | undefined)?.name === 'AbortError'
  )
}

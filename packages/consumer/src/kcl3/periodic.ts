import { pause, runEvery } from '../loop.js'

/**
 * runEvery, with the first run after `initialDelayMs` instead of at once: the Java schedulers behind
 * the KCL 3.x monitors and the lock heartbeat start one period (or a jittered delay) late. Resolves
 * once `signal` aborts and the loop has stopped, leaving no timer.
 */
export async function runEveryAfter(
  initialDelayMs: number,
  intervalMs: number,
  signal: AbortSignal,
  task: () => Promise<void>,
  onError: (error: unknown) => void,
): Promise<void> {
  if (await pause(initialDelayMs, signal)) await runEvery(intervalMs, signal, task, onError)
}

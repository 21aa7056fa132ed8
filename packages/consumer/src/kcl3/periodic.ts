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

/**
 * A runEveryAfter loop that is started once and stopped, the shape the KCL 3.x monitors share. The
 * loop ends on stop(), when the caller's signal aborts, or when the task ends it (a monitor whose work
 * is done); stop() resolves once no run is in flight.
 */
export class StoppableLoop {
  #run: { readonly controller: AbortController; readonly done: Promise<void> } | undefined

  /** A second start is ignored: one loop per owner. */
  start(
    timing: { readonly initialDelayMs: number; readonly intervalMs: number },
    signal: AbortSignal | undefined,
    task: (signal: AbortSignal, end: () => void) => Promise<void>,
    onError: (error: unknown) => void,
  ): void {
    if (this.#run !== undefined) return
    const controller = new AbortController()
    const onAbort = () => controller.abort(signal?.reason)
    if (signal?.aborted) onAbort()
    else signal?.addEventListener('abort', onAbort, { once: true })
    const end = () => controller.abort()
    const done = runEveryAfter(
      timing.initialDelayMs,
      timing.intervalMs,
      controller.signal,
      () => task(controller.signal, end),
      onError,
    ).finally(() => signal?.removeEventListener('abort', onAbort))
    this.#run = { controller, done }
  }

  async stop(): Promise<void> {
    this.#run?.controller.abort()
    await this.#run?.done
  }
}

import { BackendStartError } from '../errors.js'
import { type SupervisedProcess, superviseProcess } from './supervised-process.js'
import { waitReady } from './wait-ready.js'

/** A running backend: where to reach it and how to stop it. */
export interface LocalBackend {
  readonly endpoint: string
  /** True when the endpoint came from the environment and nothing was started. */
  readonly external: boolean
  /** The server's process id, when it was started here. */
  readonly pid: number | undefined
  /** Stops the server and waits until its process is gone; safe to call twice. */
  stop(): Promise<void>
}

export interface StartServerOptions {
  readonly backend: string
  readonly script: string
  readonly args: readonly string[]
  readonly env: NodeJS.ProcessEnv
  readonly endpoint: string
  readonly readyUrl: string
  readonly readyMethod?: string
  readonly timeoutMs: number
}

/** Starts a server process and resolves once it answers; on failure nothing is left running. */
export async function startServer(options: StartServerOptions): Promise<LocalBackend> {
  let server: SupervisedProcess
  try {
    server = await superviseProcess({ script: options.script, args: options.args, env: options.env })
  } catch (error) {
    throw new BackendStartError(options.backend, 'the process could not be spawned', error)
  }
  const ready = await waitReady({
    url: options.readyUrl,
    method: options.readyMethod ?? 'GET',
    timeoutMs: options.timeoutMs,
    exited: server.exited,
  })
  if (!ready) {
    await server.stop()
    throw new BackendStartError(
      options.backend,
      `it did not answer on ${options.readyUrl} within ${options.timeoutMs} ms. Its output:\n${server.output()}`,
    )
  }
  return { endpoint: options.endpoint, external: false, pid: server.pid, stop: () => server.stop() }
}

/** A backend given by the environment (LocalStack, AWS): nothing to start or stop. */
export function externalBackend(endpoint: string): LocalBackend {
  return { endpoint, external: true, pid: undefined, stop: async () => {} }
}

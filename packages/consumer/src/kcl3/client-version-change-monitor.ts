import type { ClientVersion } from './contracts.js'
import type { CoordinatorStateStore } from './coordinator-state-store.js'
import { type MigrationState, readMigrationState } from './migration-state.js'
import { StoppableLoop } from './periodic.js'

/** Java ClientVersionChangeMonitor: every 60 s, the first after 60 s plus up to 30 s of jitter. */
export const CLIENT_VERSION_MONITOR_INTERVAL_MS = 60_000
export const CLIENT_VERSION_MONITOR_MAX_JITTER_MS = 30_000

export interface ClientVersionChangeMonitorOptions {
  readonly store: CoordinatorStateStore
  /** The version this worker runs in now; a stored `cv` other than this is a change. */
  readonly current: ClientVersion
  /** Told of each change once; the monitor then follows the new version. */
  readonly onChange: (state: MigrationState) => void | Promise<void>
  /** A failed read (or an unknown stored `cv`); the monitor tries again at its next run. */
  readonly onError?: (error: unknown) => void
  readonly intervalMs?: number
  /** Before the first read; 60–90 s (random) unless given. */
  readonly initialDelayMs?: number
}

/**
 * Follows the `Migration3.0` item on every worker, so a leader's flip to 3.x or an operator's
 * rollback with KclMigrationTool.py reaches every worker within about a minute. The jittered first
 * read spreads a fleet's reads that started together.
 */
export class ClientVersionChangeMonitor {
  readonly #options: ClientVersionChangeMonitorOptions
  #current: ClientVersion
  readonly #loop = new StoppableLoop()

  constructor(options: ClientVersionChangeMonitorOptions) {
    this.#options = options
    this.#current = options.current
  }

  get current(): ClientVersion {
    return this.#current
  }

  /** Starts the reads; they end on stop() or when `signal` aborts. */
  start(signal?: AbortSignal): void {
    const intervalMs = this.#options.intervalMs ?? CLIENT_VERSION_MONITOR_INTERVAL_MS
    const initialDelayMs =
      this.#options.initialDelayMs ?? intervalMs + Math.floor(Math.random() * CLIENT_VERSION_MONITOR_MAX_JITTER_MS)
    this.#loop.start(
      { initialDelayMs, intervalMs },
      signal,
      (loopSignal) => this.check(loopSignal),
      this.#options.onError ?? (() => {}),
    )
  }

  /** Ends the reads; resolves once none is in flight. */
  async stop(): Promise<void> {
    await this.#loop.stop()
  }

  /** One read: reports a changed version. A missing item is no change (nothing to follow). */
  async check(signal?: AbortSignal): Promise<void> {
    const state = await readMigrationState(this.#options.store, signal)
    if (state === undefined || state.clientVersion === this.#current) return
    this.#current = state.clientVersion
    await this.#options.onChange(state)
  }
}

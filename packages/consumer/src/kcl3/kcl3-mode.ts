import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import type { Logger } from '@kinesis-ts/shared'
import type { ResolvedConsumerConfig } from '../config-types.js'
import type { LeaseStore } from '../leases/lease-store.js'
import { ClientVersionChangeMonitor } from './client-version-change-monitor.js'
import type { ClientVersion, CoordinatorLayout, WorkerMetricStatsReader } from './contracts.js'
import { resolveCoordinatorLayout } from './coordinator-layout.js'
import { CoordinatorStateStore } from './coordinator-state-store.js'
import { defaultClientVersionConfig } from './default-client-version.js'
import {
  type Kcl3ComponentContext,
  leaseAssignmentManagerFor,
  migrationReadyMonitorFor,
  workerMetricsReporterFor,
} from './kcl3-components.js'
import type { Kcl3ModeSeams } from './kcl3-mode-seams.js'
import { DynamoDbLeaderLock } from './leader-lock.js'
import { createLeaseOwnerIndexIfMissing } from './lease-owner-index-create.js'
import { initializeMigrationState } from './migration-state.js'
import { WorkerMetricStatsStore } from './worker-metric-stats-store.js'

/** Which lease algorithm the scheduler runs: the 2.x taker, or 3.x discovery of what the leader assigns. */
export type LeaseProtocol = '2x' | '3x'

type Component = 'reporter' | 'leader' | 'readyMonitor' | 'changeMonitor'

/**
 * What runs in each client version (Java MigrationClientVersion*State): the lease protocol and the
 * components beside it. 3X is terminal (reached by redeploying with '3x'), so it follows nothing;
 * INIT (compatibleWith2xPhase1 on an application without migration state) writes nothing at all.
 */
const PLAN: Readonly<Record<ClientVersion, { readonly protocol: LeaseProtocol; readonly run: readonly Component[] }>> =
  {
    CLIENT_VERSION_INIT: { protocol: '2x', run: [] },
    CLIENT_VERSION_2X: { protocol: '2x', run: ['changeMonitor'] },
    CLIENT_VERSION_UPGRADE_FROM_2X: { protocol: '2x', run: ['reporter', 'readyMonitor', 'changeMonitor'] },
    CLIENT_VERSION_3X_WITH_ROLLBACK: { protocol: '3x', run: ['reporter', 'leader', 'changeMonitor'] },
    CLIENT_VERSION_3X: { protocol: '3x', run: ['reporter', 'leader'] },
  }

export interface Kcl3ModeOptions {
  readonly config: ResolvedConsumerConfig
  readonly dynamodb: DynamoDBClient
  readonly leaseStore: LeaseStore
  readonly seams: Kcl3ModeSeams
  readonly logger: Logger
  /**
   * Runs the other lease protocol from now on: the shards checkpoint and stop as at a graceful
   * shutdown, the leases stay this worker's, and the next protocol adopts them.
   */
  readonly switchLeases: (protocol: LeaseProtocol) => Promise<void>
}

interface Running {
  readonly controller: AbortController
  readonly done: Promise<void>
}

interface Prepared {
  readonly layout: CoordinatorLayout
  readonly coordinatorState: CoordinatorStateStore
  readonly metrics: WorkerMetricStatsStore
  readonly version: ClientVersion
}

/**
 * Every consumer but the internal 3.x-worker switch's: the coordinator layout, the `clientVersionConfig`
 * (given, or chosen from the table when not: default-client-version.ts) and the start client version
 * decided as Java 3.5 decides them, then the components of that version — the leader lock,
 * the lease assignment manager and the metrics reporter in 3.x; the metrics, the index and the
 * readiness monitor in UPGRADE_FROM_2X — following the `Migration3.0` item as it changes.
 */
export class Kcl3Mode {
  readonly #o: Kcl3ModeOptions
  readonly #running = new Map<Component, Running>()
  #prepared: Prepared | undefined
  #version: ClientVersion = 'CLIENT_VERSION_INIT'
  #leaderLock: DynamoDbLeaderLock | undefined
  #changes: Promise<void> = Promise.resolve()
  #stopped = false

  constructor(options: Kcl3ModeOptions) {
    this.#o = options
  }

  /** The lease protocol to start with; valid after prepare(). */
  get protocol(): LeaseProtocol {
    return PLAN[this.#version].protocol
  }

  get clientVersion(): ClientVersion {
    return this.#version
  }

  get layout(): CoordinatorLayout | undefined {
    return this.#prepared?.layout
  }

  /** Every worker's WorkerMetricStats (graceful shutdown gives leases to the live ones); valid after prepare(). */
  get workerMetrics(): WorkerMetricStatsReader | undefined {
    return this.#prepared?.metrics
  }

  /**
   * Start-up, inside the scheduler's initialization retry: the layout, then the start version, written
   * as Java writes it. An unknown `tm` or `cv` rejects with a ConfigurationError naming what was found.
   */
  async prepare(signal: AbortSignal): Promise<void> {
    const { config, dynamodb } = this.#o
    const timeoutMs = config.dynamoDbRequestTimeoutMillis
    const layout = await resolveCoordinatorLayout({
      dynamodb,
      applicationName: config.applicationName,
      leaseTableName: config.tableName,
      migrateAllEntitiesToLeaseTable: false,
      signal,
      timeoutMs,
    })
    const coordinatorState = new CoordinatorStateStore(dynamodb, layout, timeoutMs)
    const chosen =
      config.clientVersionConfig === undefined
        ? await defaultClientVersionConfig({
            dynamodb,
            leaseTableName: config.tableName,
            coordinatorState,
            timeoutMs,
            signal,
          })
        : { config: config.clientVersionConfig, reason: undefined }
    const start = await initializeMigrationState({
      store: coordinatorState,
      config: chosen.config,
      workerId: config.workerId,
      signal,
    })
    const metrics = new WorkerMetricStatsStore({
      client: dynamodb,
      writeTable: layout.workerMetricsWrite,
      readTables: layout.workerMetricsRead,
      timeoutMs,
    })
    this.#prepared = { layout, coordinatorState, metrics, version: start.clientVersion }
    this.#version = start.clientVersion
    this.#o.logger.info(
      {
        clientVersion: start.clientVersion,
        layout: layout.kind,
        clientVersionConfig: chosen.config,
        ...(chosen.reason === undefined ? {} : { chosenByDefaultFrom: chosen.reason }),
      },
      'KCL 3.x mode: start version',
    )
  }

  /**
   * Whether this worker creates leases (start-up and periodic shard sync): in 3.x only the leader
   * does (Java Scheduler), in 2.x every worker, as the 2.x protocol here always has.
   */
  async mayCreateLeases(signal: AbortSignal): Promise<boolean> {
    if (this.protocol === '2x') return true
    const lock = this.#leaderLock ?? this.#startLeaderLock()
    return lock.isLeader(signal)
  }

  /** Starts the components of the start version (after the scheduler's lease side started). */
  start(): void {
    this.#apply(this.#version)
  }

  /**
   * Stops every component. `release` false is a crash: the leader lock is left to expire by its
   * stored duration, as a dead Java leader's is.
   */
  async stop(release = true): Promise<void> {
    this.#stopped = true
    await this.#changes.catch(() => {})
    await Promise.all([...this.#running.keys()].map((component) => this.#stopComponent(component, release)))
    await this.#stopLeaderLock(release)
  }

  /** A changed `Migration3.0` (the leader's flip, an operator's rollback or roll-forward), one at a time. */
  #follow(next: ClientVersion): Promise<void> {
    this.#changes = this.#changes.then(async () => {
      if (this.#stopped || next === this.#version) return
      const before = PLAN[this.#version].protocol
      this.#o.logger.info({ from: this.#version, to: next }, 'KCL 3.x mode: client version changed')
      this.#version = next
      const wanted = new Set(PLAN[next].run)
      for (const component of [...this.#running.keys()]) {
        if (!wanted.has(component)) await this.#stopComponent(component, true)
      }
      if (PLAN[next].protocol === '2x') await this.#stopLeaderLock(true)
      if (PLAN[next].protocol !== before) await this.#o.switchLeases(PLAN[next].protocol)
      if (!this.#stopped) this.#apply(next)
    })
    return this.#changes
  }

  #apply(version: ClientVersion): void {
    for (const component of PLAN[version].run) {
      if (!this.#running.has(component)) this.#running.set(component, this.#startComponent(component))
    }
  }

  #startComponent(component: Component): Running {
    const controller = new AbortController()
    const signal = controller.signal
    const prepared = this.#prepared!
    switch (component) {
      case 'reporter':
        return { controller, done: workerMetricsReporterFor(this.#context(prepared)).run(signal) }
      case 'leader': {
        const lock = this.#leaderLock ?? this.#startLeaderLock()
        return { controller, done: leaseAssignmentManagerFor(this.#context(prepared), lock).run(signal) }
      }
      case 'readyMonitor': {
        const monitor = migrationReadyMonitorFor(this.#context(prepared), (state) => {
          this.#o.logger.info(
            { clientVersion: state.clientVersion },
            'KCL 3.x mode: the fleet is ready; flipped to 3.x',
          )
          void this.#follow(state.clientVersion)
        })
        void this.#addLeaseOwnerIndex(signal)
        monitor.start(signal)
        return { controller, done: this.#untilAborted(signal).then(() => monitor.stop()) }
      }
      case 'changeMonitor': {
        const monitor = this.#changeMonitor(prepared)
        monitor.start(signal)
        return { controller, done: this.#untilAborted(signal).then(() => monitor.stop()) }
      }
    }
  }

  async #stopComponent(component: Component, release: boolean): Promise<void> {
    const running = this.#running.get(component)
    if (running === undefined) return
    this.#running.delete(component)
    running.controller.abort()
    await running.done
    if (component === 'leader') await this.#stopLeaderLock(release)
  }

  #context(prepared: Prepared): Kcl3ComponentContext {
    return { ...this.#o, ...prepared }
  }

  #untilAborted(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) resolve()
      else signal.addEventListener('abort', () => resolve(), { once: true })
    })
  }

  #startLeaderLock(): DynamoDbLeaderLock {
    const { config, dynamodb, logger } = this.#o
    const lock = new DynamoDbLeaderLock({
      dynamodb,
      table: this.#prepared!.layout.leaderLock,
      workerId: config.workerId,
      leaseDurationMillis: config.dynamoDbLockBasedLeaderLeaseDurationInMillis,
      heartbeatPeriodMillis: config.dynamoDbLockBasedLeaderHeartbeatPeriodInMillis,
      timeoutMs: config.dynamoDbRequestTimeoutMillis,
      // Issue 17: a crashed TypeScript leader is replaced within failoverTimeMillis, watched at the
      // expiry watch's cadence; the watch off (0, Java timing) leaves the Java lock alone.
      ...(config.leaseExpiryWatchIntervalMillis > 0
        ? {
            fastLeaseDurationMillis: config.failoverTimeMillis,
            fastWatchIntervalMillis: config.leaseExpiryWatchIntervalMillis,
          }
        : {}),
      onError: (error) => logger.warn({ err: error }, 'leader lock call failed'),
    })
    lock.start()
    this.#leaderLock = lock
    return lock
  }

  async #stopLeaderLock(release: boolean): Promise<void> {
    const lock = this.#leaderLock
    this.#leaderLock = undefined
    if (lock === undefined) return
    await (release ? lock.stop() : lock.abandon())
  }

  #changeMonitor(prepared: Prepared): ClientVersionChangeMonitor {
    const { seams, logger } = this.#o
    const interval = seams.clientVersionMonitorIntervalMs
    return new ClientVersionChangeMonitor({
      store: prepared.coordinatorState,
      current: this.#version,
      // Not awaited: following a change stops this monitor, which waits for its own callback.
      onChange: (state) => void this.#follow(state.clientVersion),
      onError: (error) => logger.warn({ err: error }, 'client version check failed'),
      ...(interval === undefined ? {} : { intervalMs: interval, initialDelayMs: interval }),
    })
  }

  /** Java creates the index without waiting for it; a table that refuses it (dynalite) only delays the flip. */
  async #addLeaseOwnerIndex(signal: AbortSignal): Promise<void> {
    const { config, dynamodb, logger } = this.#o
    try {
      await createLeaseOwnerIndexIfMissing(dynamodb, config.tableName, config.dynamoDbRequestTimeoutMillis, signal)
    } catch (error) {
      if (!signal.aborted)
        logger.warn({ err: error }, 'could not add the LeaseOwnerToLeaseKeyIndex; the migration to 3.x waits for it')
    }
  }
}

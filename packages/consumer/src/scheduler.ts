import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import type { KinesisClient } from '@aws-sdk/client-kinesis'
import type { EventHub, Logger, MetricsSink } from '@kinesis-ts/shared'
import type { ResolvedConsumerConfig } from './config.js'
import type { ConsumerEvents } from './events.js'
import type { Kcl3ModeSeams } from './kcl3/kcl3-mode-seams.js'
import { Kcl3Mode, type LeaseProtocol } from './kcl3/kcl3-mode.js'
import type { Kcl3WorkerSwitch } from './kcl3/worker-mode.js'
import type { HeldLease } from './leases/held-lease.js'
import { LeaseStore } from './leases/lease-store.js'
import { EventLoopWatch } from './liveness/event-loop-watch.js'
import { type Stall, findStalls } from './liveness/shard-watchdog.js'
import { pause, runEvery } from './loop.js'
import { METRICS } from './metrics.js'
import { isShardEnd } from './records/sequence.js'
import { cleanUpFinishedLeases } from './scheduler-cleanup.js'
import {
  type LeaseSide,
  type LeaseSideContext,
  discoveringLeaseSide,
  leaseSideOf,
  takingLeaseSide,
} from './scheduler-lease-sides.js'
import { describeShard } from './scheduler-shard-describe.js'
import { initializeScheduler } from './scheduler-startup.js'
import type { ProcessorHost, RecordSourceFactory } from './seams.js'
import { ShardConsumer, type ShardProgress } from './shard-consumer.js'
import { ShardSyncer } from './shard-sync/shard-syncer.js'
import type { ExtendedSequenceNumber } from './types.js'

export interface SchedulerOptions {
  readonly config: ResolvedConsumerConfig
  readonly kinesis: KinesisClient
  readonly dynamodb: DynamoDBClient
  readonly sources: RecordSourceFactory
  readonly host: ProcessorHost
  readonly events: EventHub<ConsumerEvents>
  readonly logger: Logger
  readonly metrics: MetricsSink
  /** Internal: run as a KCL 3.x worker (see kcl3/worker-mode.ts). */
  readonly kcl3Worker?: Kcl3WorkerSwitch | undefined
  /**
   * The KCL 3.x mode, which decides the protocol at start() (from `clientVersionConfig`, or from the
   * lease table when it is unset). Absent only beside the internal kcl3Worker switch: then the protocol
   * is the switch's, with no leader, metrics or migration state of this worker's own.
   */
  readonly kcl3Mode?: { readonly seams: Kcl3ModeSeams } | undefined
}

/** How often held leases are checked for a live, moving consumer (in memory only: no I/O). */
const WATCHDOG_INTERVAL_MILLIS = 1_000

/** Audits in a row that must see a hash-range hole before a repair (Java leasesRecoveryAuditorInconsistencyConfidenceThreshold). */
const HOLE_CONFIDENCE_THRESHOLD = 3

export interface ShardStats extends Omit<ShardProgress, 'lastProgressAt'> {
  readonly shardId: string
  readonly checkpoint: ExtendedSequenceNumber
  readonly leaseCounter: number
  /** When the shard last moved (Date.now() ms); undefined while no consumer runs for it. */
  readonly lastProgressAt: number | undefined
  /** Times this worker reset the shard because it stopped moving (see `consumer.shard_stalled`). */
  readonly stalls: number
}

interface Running {
  consumer: ShardConsumer | undefined
  done: Promise<void>
}

/**
 * The worker loop, a pipeline: start-up (scheduler-startup.ts) decides the lease protocol, the lease
 * side (scheduler-lease-sides.ts) decides which shards are ours, a ShardConsumer runs per
 * held lease, and side loops sync shards and clean up finished leases. Shutdown stops taking, lets
 * each consumer finish its batch and call shutdownRequested, then releases its lease.
 */
export class Scheduler {
  readonly #options: SchedulerOptions
  readonly #store: LeaseStore
  #coordinator: LeaseSide
  readonly #kcl3: Kcl3Mode | undefined
  readonly #syncer: ShardSyncer
  readonly #running = new Map<string, Running>()
  readonly #stalls = new Map<string, number>()
  /** Leases whose shard is shutting down for a KCL 3.x handoff: not restarted, released when done. */
  readonly #handingOff = new WeakSet<HeldLease>()
  readonly #eventLoop: EventLoopWatch
  readonly #loops = new AbortController()
  #sideLoops: Promise<void>[] = []
  #stopping = false
  #destroyed = false
  /** While the lease side changes protocol: shards stop with a checkpoint and keep their leases. */
  #switching = false

  constructor(options: SchedulerOptions) {
    this.#options = options
    const { config, logger, metrics } = options
    this.#store = new LeaseStore(options.dynamodb, config.tableName, config.dynamoDbRequestTimeoutMillis)
    this.#syncer = new ShardSyncer({
      kinesis: options.kinesis,
      store: this.#store,
      stream: config,
      requestTimeoutMillis: config.kinesisRequestTimeoutMillis,
      initialPosition: config.initialPosition,
      holeConfidenceThreshold: HOLE_CONFIDENCE_THRESHOLD,
      logger,
      metrics,
    })
    this.#kcl3 =
      options.kcl3Mode === undefined
        ? undefined
        : new Kcl3Mode({
            config,
            dynamodb: options.dynamodb,
            leaseStore: this.#store,
            seams: options.kcl3Mode.seams,
            logger,
            switchLeases: (protocol) => this.#switchLeases(protocol),
          })
    // The 2.x side until start() knows better: a KCL 3.x mode's protocol is read from the table.
    this.#coordinator =
      options.kcl3Worker === undefined
        ? takingLeaseSide(this.#leaseSideContext())
        : discoveringLeaseSide(this.#leaseSideContext(), options.kcl3Worker.workerMetrics)
    this.#eventLoop = new EventLoopWatch({
      thresholdMillis: config.failoverTimeMillis / 3,
      logger,
      metrics,
    })
  }

  #leaseSideContext(): LeaseSideContext {
    const { config, dynamodb, logger, metrics } = this.#options
    return {
      config,
      store: this.#store,
      dynamodb,
      logger,
      metrics,
      onAcquired: (held) => this.#onAcquired(held),
      onLost: (held) => this.#onLost(held),
      onHandoff: (held) => this.#handOff(held),
    }
  }

  #leasesOf(protocol: LeaseProtocol): LeaseSide {
    return leaseSideOf(protocol, this.#leaseSideContext(), this.#kcl3?.workerMetrics)
  }

  /**
   * KCL 3.x mode following a migration step (the flip to 3.x, a rollback to 2.x): every shard ends its
   * batch and gets shutdownRequested (the application checkpoints) as at a graceful stop, but its lease
   * stays ours; the old side stops renewing and the new one adopts the leases this worker owns (the
   * 3.x discovery's first round, or the 2.x taker, which takes its own leases first), so nothing is
   * lost and nothing past a checkpoint is read twice.
   */
  async #switchLeases(protocol: LeaseProtocol): Promise<void> {
    if (this.#stopping) return
    this.#switching = true
    try {
      const old = this.#coordinator
      old.stopTaking()
      for (const running of this.#running.values()) running.consumer?.requestShutdown()
      await Promise.all([...this.#running.values()].map((running) => running.done))
      await old.stop()
      if (this.#stopping) return
      this.#coordinator = this.#leasesOf(protocol)
      this.#coordinator.start()
      this.#options.logger.info({ protocol }, 'lease protocol switched')
    } finally {
      this.#switching = false
    }
  }

  /** In KCL 3.x only the leader creates leases (Java Scheduler); otherwise every worker does, as ever. */
  async #mayCreateLeases(signal: AbortSignal): Promise<boolean> {
    return this.#kcl3 === undefined || this.#kcl3.mayCreateLeases(signal)
  }

  /**
   * KCL 3.x: the leader moves this lease to another worker. Its shard shuts down as at a graceful
   * stop — the batch in flight, then shutdownRequested, where the application checkpoints — and the
   * release that follows assigns the lease to its new owner.
   */
  #handOff(held: HeldLease): void {
    this.#handingOff.add(held)
    const running = this.#running.get(held.leaseKey)
    if (running === undefined) void this.#release(held)
    else running.consumer?.requestShutdown()
  }

  /** Shard ids whose leases this worker holds. */
  get leaseKeys(): string[] {
    return this.#coordinator.held.map((held) => held.leaseKey)
  }

  /** One entry per held lease: where it stands in the table and in this worker. */
  stats(): ShardStats[] {
    return this.#coordinator.held.map((held) => {
      const progress = this.#running.get(held.leaseKey)?.consumer?.progress
      const finished = isShardEnd(held.lease.checkpoint)
      return {
        shardId: held.leaseKey,
        checkpoint: held.lease.checkpoint,
        leaseCounter: held.lease.leaseCounter,
        state: progress?.state ?? (finished ? 'done' : 'waiting-for-parents'),
        millisBehindLatest: progress?.millisBehindLatest,
        recordsProcessed: progress?.recordsProcessed ?? 0,
        lastProgressAt: progress?.lastProgressAt,
        lastError: progress?.lastError,
        recordsDeadLettered: progress?.recordsDeadLettered ?? 0,
        deadLetterFailures: progress?.deadLetterFailures ?? 0,
        stalls: this.#stalls.get(held.leaseKey) ?? 0,
      }
    })
  }

  async start(signal: AbortSignal): Promise<void> {
    const { config, logger } = this.#options
    try {
      const { dynamodb, sources } = this.#options
      await initializeScheduler(
        {
          config,
          dynamodb,
          sources,
          logger,
          store: this.#store,
          syncer: this.#syncer,
          kcl3: this.#kcl3,
          mayCreateLeases: (s) => this.#mayCreateLeases(s),
        },
        signal,
      )
    } catch (error) {
      // A start that failed after the KCL 3.x mode began (its leader lock heartbeats) leaves nothing running.
      await this.#kcl3?.stop()
      throw error
    }
    if (this.#kcl3 !== undefined) this.#coordinator = this.#leasesOf(this.#kcl3.protocol)
    this.#coordinator.start()
    this.#kcl3?.start()
    this.#eventLoop.start()
    const warn = (what: string) => (error: unknown) => logger.warn({ err: error }, `${what} failed`)
    this.#sideLoops = [
      runEvery(
        Math.min(WATCHDOG_INTERVAL_MILLIS, config.leaseRenewerIntervalMillis),
        this.#loops.signal,
        async () => this.#watch(),
        warn('shard watchdog'),
      ),
      this.#after(config.shardSyncIntervalMillis, () =>
        runEvery(
          config.shardSyncIntervalMillis,
          this.#loops.signal,
          async () => {
            if (await this.#mayCreateLeases(this.#loops.signal)) await this.#syncer.audit(this.#loops.signal)
          },
          warn('shard sync'),
        ),
      ),
    ]
    if (config.cleanupLeasesUponShardCompletion) {
      this.#sideLoops.push(
        runEvery(
          config.completedLeaseCleanupIntervalMillis,
          this.#loops.signal,
          () => this.#cleanup(),
          warn('lease cleanup'),
        ),
      )
    }
  }

  async #after(ms: number, loop: () => Promise<void>): Promise<void> {
    if (await pause(ms, this.#loops.signal)) await loop()
  }

  #onAcquired(held: HeldLease): void {
    const { config, events } = this.#options
    events.emit('consumer.lease_taken', () => ({ shardId: held.leaseKey, workerId: config.workerId }))
    if (this.#stopping) {
      void this.#release(held)
      return
    }
    // A finished shard needs no processor: the lease is held until cleanup deletes it.
    if (isShardEnd(held.lease.checkpoint)) return
    this.#startConsumer(held)
  }

  #onLost(held: HeldLease): void {
    this.#options.events.emit('consumer.lease_lost', () => ({
      shardId: held.leaseKey,
      workerId: this.#options.config.workerId,
      reason: held.lostReason ?? 'unknown',
    }))
  }

  /**
   * Every unfinished lease held has a consumer that moves: a lease found without one gets one (a
   * consumer that crashed, or one that stopped while the lease stayed ours), and a consumer that has
   * not moved for shardStallTimeoutMillis is reset from the checkpoint. Both are reported.
   */
  #watch(): void {
    const { config } = this.#options
    this.#eventLoop.check()
    if (this.#stopping || this.#switching) return
    const now = performance.now()
    const leases = this.#coordinator.held.map((held) => {
      const running = this.#running.get(held.leaseKey)
      return {
        shardId: held.leaseKey,
        finished: isShardEnd(held.lease.checkpoint),
        consumer: running?.consumer,
        starting: running !== undefined && running.consumer === undefined,
      }
    })
    for (const stall of findStalls(leases, config.shardStallTimeoutMillis, now)) this.#recover(stall)
  }

  #recover(stall: Stall): void {
    const { config, events, logger, metrics } = this.#options
    const held = this.#coordinator.get(stall.shardId)
    if (held === undefined) return
    const running = this.#running.get(stall.shardId)
    const lastError = running?.consumer?.progress.lastError
    this.#stalls.set(stall.shardId, (this.#stalls.get(stall.shardId) ?? 0) + 1)
    logger.warn({ ...stall, lastError }, 'shard stalled: restarting it from its checkpoint')
    metrics.put(METRICS.shardStalled, 1, 'Count', { ShardId: stall.shardId })
    events.emit('consumer.shard_stalled', () => ({ ...stall, workerId: config.workerId, lastError }))
    // A stuck consumer is stopped and, its lease still ours, started again by #startConsumer's restart.
    if (running?.consumer !== undefined) running.consumer.abort()
    else this.#startConsumer(held)
  }

  #startConsumer(held: HeldLease): void {
    const { logger } = this.#options
    // A lease lost and taken back: the old consumer must be done before a new one starts.
    const previous = this.#running.get(held.leaseKey)?.done
    const running: Running = { consumer: undefined, done: Promise.resolve() }
    let restart = false
    running.done = (async () => {
      await previous
      const { config } = this.#options
      const shard = await describeShard(
        { config, store: this.#store, syncer: this.#syncer, logger, signal: this.#loops.signal },
        held,
      )
      if (shard === undefined || held.lost) return
      const consumer = new ShardConsumer({ ...this.#options, held, shard, store: this.#store, syncer: this.#syncer })
      running.consumer = consumer
      if (this.#stopping || this.#switching || this.#handingOff.has(held)) consumer.requestShutdown()
      const outcome = await consumer.run()
      logger.debug({ shardId: held.leaseKey, outcome }, 'shard consumer finished')
      // Stopped for a protocol switch: the lease stays ours for the next protocol to adopt.
      if (outcome === 'shutdown' && !(this.#switching && !this.#stopping && !this.#handingOff.has(held))) {
        await this.#release(held)
      }
      // Stopped on its own while the lease is still ours: start again after a pause rather than idle on it.
      restart = outcome === 'stopped' && !this.#stopping && !held.lost
      if (restart) restart = await pause(this.#options.config.processingRetryBackoffBaseMillis, this.#loops.signal)
    })()
      .catch((error) => logger.error({ err: error, shardId: held.leaseKey }, 'shard consumer crashed'))
      .finally(() => {
        if (this.#running.get(held.leaseKey) === running) this.#running.delete(held.leaseKey)
        if (restart && !held.lost && !this.#stopping) this.#startConsumer(held)
      })
    this.#running.set(held.leaseKey, running)
  }

  #cleanup(): Promise<void> {
    const { logger, metrics } = this.#options
    return cleanUpFinishedLeases(
      {
        store: this.#store,
        syncer: this.#syncer,
        logger,
        metrics,
        leases: () => this.#coordinator,
        running: (leaseKey) => this.#running.has(leaseKey),
      },
      this.#loops.signal,
    )
  }

  async #release(held: HeldLease): Promise<void> {
    try {
      await this.#coordinator.release(held)
      this.#options.events.emit('consumer.lease_released', () => ({
        shardId: held.leaseKey,
        workerId: this.#options.config.workerId,
      }))
    } catch (error) {
      this.#options.logger.warn({ err: error, shardId: held.leaseKey }, 'could not release the lease')
    }
  }

  /** Graceful: no new leases, each shard finishes its batch and gets shutdownRequested, leases released. */
  async shutdown(): Promise<void> {
    this.#stopping = true
    // First: no assignment to this worker while it stops, and the leader lock free for the next leader.
    await this.#kcl3?.stop()
    this.#coordinator.stopTaking()
    this.#loops.abort()
    for (const running of this.#running.values()) running.consumer?.requestShutdown()
    await Promise.all([...this.#running.values()].map((running) => running.done))
    // Cut short by destroy() (a shutdown that ran out of time): the leases are left to expire.
    if (this.#destroyed) return
    // Leases without a running consumer (finished shards, or blocked ones that already stopped).
    await Promise.all(this.#coordinator.held.map((held) => this.#release(held)))
    await this.#stop()
  }

  /** Hard: stop every loop and consumer now; leases are left to expire. */
  async destroy(): Promise<void> {
    this.#destroyed = true
    this.#stopping = true
    this.#loops.abort()
    for (const running of this.#running.values()) running.consumer?.abort()
    // As a crash: the leader lock is not released, it expires by its stored duration.
    await this.#kcl3?.stop(false)
    await this.#stop()
  }

  async #stop(): Promise<void> {
    this.#eventLoop.stop()
    await this.#coordinator.stop()
    await Promise.all(this.#sideLoops)
    await this.#options.sources.stop?.()
    const { host } = this.#options
    // After destroy() a host abandons calls still running; a graceful stop lets them finish.
    await (this.#destroyed && host.destroy !== undefined ? host.destroy() : host.close())
  }
}

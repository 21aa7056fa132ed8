import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import type { KinesisClient } from '@aws-sdk/client-kinesis'
import { ConfigurationError, type EventHub, type Logger, type MetricsSink, retry } from '@kinesis-ts/shared'
import type { ResolvedConsumerConfig } from './config.js'
import type { ConsumerEvents } from './events.js'
import type { WorkerMetricStatsReader } from './kcl3/contracts.js'
import type { Kcl3ModeSeams } from './kcl3/kcl3-mode-seams.js'
import { Kcl3Mode, type LeaseProtocol } from './kcl3/kcl3-mode.js'
import { Kcl3WorkerCoordinator } from './kcl3/worker-coordinator.js'
import { type Kcl3WorkerSwitch, discoveryIntervalOf } from './kcl3/worker-mode.js'
import type { HeldLease } from './leases/held-lease.js'
import { LeaseCoordinator } from './leases/lease-coordinator.js'
import { LeaseStore } from './leases/lease-store.js'
import { ensureLeaseTable } from './leases/lease-table.js'
import { EventLoopWatch } from './liveness/event-loop-watch.js'
import { type Stall, findStalls } from './liveness/shard-watchdog.js'
import { pause, runEvery } from './loop.js'
import { METRICS } from './metrics.js'
import { SHARD_END, isSentinel, isShardEnd } from './records/sequence.js'
import type { ProcessorHost, RecordSourceFactory, ShardDescriptor } from './seams.js'
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

/** What the scheduler needs of either protocol's lease side (2.x taking, or the 3.x worker's discovery). */
type Leases = Pick<LeaseCoordinator, 'held' | 'get' | 'start' | 'stopTaking' | 'release' | 'forget' | 'stop'>

/** How often held leases are checked for a live, moving consumer (in memory only: no I/O). */
const WATCHDOG_INTERVAL_MILLIS = 1_000

/** Java MultiStreamLease keys: account id, stream name, creation epoch, shard id. */
const MULTI_STREAM_KEY = /^\d{12}:[^:]+:\d+:.+$/

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
 * The worker loop: the lease coordinator decides which shards are ours, a ShardConsumer runs per
 * held lease, and side loops sync shards and clean up finished leases. Shutdown stops taking, lets
 * each consumer finish its batch and call shutdownRequested, then releases its lease.
 */
export class Scheduler {
  readonly #options: SchedulerOptions
  readonly #store: LeaseStore
  #coordinator: Leases
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
      options.kcl3Worker === undefined ? this.#leases2x() : this.#leases3x(options.kcl3Worker.workerMetrics)
    this.#eventLoop = new EventLoopWatch({
      thresholdMillis: config.failoverTimeMillis / 3,
      logger,
      metrics,
    })
  }

  #leases3x(workerMetrics: WorkerMetricStatsReader | undefined): Leases {
    const { config, logger, metrics } = this.#options
    return new Kcl3WorkerCoordinator({
      store: this.#store,
      dynamodb: this.#options.dynamodb,
      workerId: config.workerId,
      failoverTimeMillis: config.failoverTimeMillis,
      renewerIntervalMillis: config.leaseRenewerIntervalMillis,
      discoveryIntervalMillis: discoveryIntervalOf(config),
      maxLeaseRenewalThreads: config.maxLeaseRenewalThreads,
      fenceMarginMillis: config.leaseFenceMarginMillis,
      gracefulLeaseHandoffTimeoutMillis: config.gracefulLeaseHandoffTimeoutMillis,
      workerMetricsReporterFreqInMillis: config.workerMetricsReporterFreqInMillis,
      dynamoDbRequestTimeoutMillis: config.dynamoDbRequestTimeoutMillis,
      workerMetrics,
      logger,
      metrics,
      onAcquired: (held) => this.#onAcquired(held),
      onLost: (held) => this.#onLost(held),
      onHandoff: (held) => this.#handOff(held),
    })
  }

  #leases2x(): Leases {
    const { config, logger, metrics } = this.#options
    return new LeaseCoordinator({
      store: this.#store,
      workerId: config.workerId,
      failoverTimeMillis: config.failoverTimeMillis,
      renewerIntervalMillis: config.leaseRenewerIntervalMillis,
      maxLeaseRenewalThreads: config.maxLeaseRenewalThreads,
      fenceMarginMillis: config.leaseFenceMarginMillis,
      takerIntervalMillis: config.leaseTakerIntervalMillis,
      expiryWatchIntervalMillis: config.leaseExpiryWatchIntervalMillis,
      maxLeasesForWorker: config.maxLeasesForWorker,
      maxLeasesToStealAtOneTime: config.maxLeasesToStealAtOneTime,
      logger,
      metrics,
      onAcquired: (held) => this.#onAcquired(held),
      onLost: (held) => this.#onLost(held),
    })
  }

  #leasesOf(protocol: LeaseProtocol): Leases {
    return protocol === '3x' ? this.#leases3x(this.#kcl3?.workerMetrics) : this.#leases2x()
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

  /**
   * The lease table, the first shard sync and the retrieval setup (fan-out registration). Transient
   * failures (a backend not up yet, throttling, 5xx) are tried again as the Java KCL does, up to
   * maxInitializationAttempts with schedulerInitializationBackoffTimeMillis between; a terminal one
   * (a missing stream, denied access) rejects start() at once.
   */
  async #initialize(signal: AbortSignal): Promise<void> {
    const { config, dynamodb, sources, logger } = this.#options
    const { maxInitializationAttempts, schedulerInitializationBackoffTimeMillis: pauseMs } = config
    await retry(
      async () => {
        await ensureLeaseTable(dynamodb, config.tableName, signal)
        await this.#refuseMultiStreamTable(signal)
        await this.#kcl3?.prepare(signal)
        if (await this.#mayCreateLeases(signal)) await this.#syncer.initialSync(signal)
        await sources.start?.(signal)
      },
      {
        signal,
        maxAttempts: maxInitializationAttempts,
        // The same pause every time, as the Java KCL's schedulerInitializationBackoffTimeMillis.
        baseMs: pauseMs,
        maxMs: pauseMs,
        jitter: 'none',
        onRetry: (error, { attempt }) =>
          logger.warn({ err: error, attempt, maxInitializationAttempts }, 'initialization failed; trying again'),
      },
    )
  }

  /**
   * A Java multi-stream application keys its leases `account:stream:epoch:shardId`. Read as shard ids
   * they would be taken and never processed, so such a table is refused until multi-stream exists here.
   */
  async #refuseMultiStreamTable(signal: AbortSignal): Promise<void> {
    const { tableName } = this.#options.config
    const multiStream = (await this.#store.listLeases(signal)).find((lease) => MULTI_STREAM_KEY.test(lease.leaseKey))
    if (multiStream === undefined) return
    throw new ConfigurationError(
      'tableName',
      `a single-stream lease table; ${tableName} holds multi-stream leases (e.g. ${JSON.stringify(multiStream.leaseKey)}), which kinesis-ts does not support yet`,
      tableName,
    )
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
      await this.#initialize(signal)
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
      const shard = await this.#describe(held)
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

  async #describe(held: HeldLease): Promise<ShardDescriptor | undefined> {
    const { config, logger } = this.#options
    let range = held.lease.hashKeyRange
    for (let attempt = 0; range === undefined; attempt++) {
      try {
        range = await this.#syncer.hashRangeOf(held.leaseKey, held.lostSignal)
        if (range === undefined) {
          // Gone from the stream (trimmed past retention, or a re-created stream): nothing left to
          // read. It ends here, so its children can start and cleanup can delete its lease.
          logger.error({ shardId: held.leaseKey }, 'shard not found in ListShards: marking its lease SHARD_END')
          await held.write((lease) => this.#store.checkpoint(lease, config.workerId, SHARD_END))
          return undefined
        }
        await this.#store.setHashKeyRange(held.leaseKey, range)
      } catch (error) {
        logger.warn({ err: error, shardId: held.leaseKey }, 'could not read the shard hash range')
        if (!(await pause(1_000 * Math.min(attempt + 1, 10), AbortSignal.any([held.lostSignal, this.#loops.signal])))) {
          return undefined
        }
      }
    }
    return { shardId: held.leaseKey, streamName: config.streamName, streamARN: config.streamARN, ...range }
  }

  /**
   * Deletes leases of finished shards once every child has a lease that has started, parents first
   * (as the Java LeaseCleanupManager): a child deleted before its parent would leave the parent's
   * child lookup failing forever. A finished shard with no children is deleted once ListShards no
   * longer lists it.
   */
  async #cleanup(): Promise<void> {
    for (const held of this.#coordinator.held) {
      if (!isShardEnd(held.lease.checkpoint) || this.#running.has(held.leaseKey)) continue
      const parents = await Promise.all(
        held.lease.parentShardIds.map((parent) => this.#store.getLease(parent, this.#loops.signal)),
      )
      if (parents.some((parent) => parent !== undefined)) continue
      const children = await this.#childrenOf(held)
      if (children.length === 0) {
        if (!(await this.#syncer.shardExists(held.leaseKey, this.#loops.signal))) await this.#delete(held)
        continue
      }
      const leases = await Promise.all(children.map((child) => this.#store.getLease(child, this.#loops.signal)))
      const started = leases.every(
        (lease) =>
          lease !== undefined && (isShardEnd(lease.checkpoint) || !isSentinel(lease.checkpoint.sequenceNumber)),
      )
      if (started) await this.#delete(held)
    }
  }

  async #delete(held: HeldLease): Promise<void> {
    if (!(await this.#store.deleteLease(held.leaseKey))) return
    this.#coordinator.forget(held.leaseKey)
    this.#options.metrics.put(METRICS.cleanedLeases, 1, 'Count')
    this.#options.logger.info({ shardId: held.leaseKey }, 'deleted the lease of a finished shard')
  }

  /**
   * A finished lease's children: as recorded on it, or (a lease from an older Java KCL, or one whose
   * owner died before recording them) from ListShards, creating any child lease that is missing.
   */
  async #childrenOf(held: HeldLease): Promise<readonly string[]> {
    if (held.lease.childShardIds.length > 0) return held.lease.childShardIds
    const found = await this.#syncer.childShardsOf(held.leaseKey, this.#loops.signal)
    if (found.length > 0) await this.#syncer.createChildLeases(held.leaseKey, found)
    return found.map((child) => child.shardId)
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

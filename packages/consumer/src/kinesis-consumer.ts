import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import type { KinesisClient } from '@aws-sdk/client-kinesis'
import {
  ClosedError,
  type CloudWatchMetrics,
  EventHub,
  type OwnedClient,
  childLogger,
  cloudWatchSink,
  isolatedMetrics,
  kinesisClientFrom,
  loadTracingApi,
} from '@kinesis-ts/shared'
import { dynamoDBClientFrom } from '@kinesis-ts/shared/dynamodb'
import { type KinesisConsumerOptions, type ResolvedConsumerConfig, resolveConsumerConfig } from './config.js'
import type { ConsumerEvents } from './events.js'
import { kcl3ModeSeamsOf } from './kcl3/kcl3-mode-seams.js'
import { kcl3WorkerSwitchOf } from './kcl3/worker-mode.js'
import { createProcessorHost, createRecordSourceFactory } from './modes.js'
import { Scheduler, type ShardStats } from './scheduler.js'

type State = 'new' | 'starting' | 'running' | 'stopping' | 'stopped'

export interface ConsumerStats {
  readonly workerId: string
  readonly state: State
  readonly shards: ShardStats[]
}

/**
 * The KCL worker: takes leases on the Java KCL lease table, reads its shards and drives one
 * ShardRecordProcessor per lease. `start()` resolves once the worker runs; `shutdown()` is graceful
 * (final checkpoints, leases released) and bounded by shutdownTimeoutMillis; a second shutdown()
 * call while one is in progress ends it at once.
 */
export class KinesisConsumer {
  readonly #config: ResolvedConsumerConfig
  readonly #events: EventHub<ConsumerEvents>
  readonly #kinesis: OwnedClient<KinesisClient>
  readonly #dynamodb: OwnedClient<DynamoDBClient>
  readonly #scheduler: Scheduler
  readonly #cloudWatch: CloudWatchMetrics | undefined
  readonly #starting = new AbortController()
  #state: State = 'new'
  #startPromise: Promise<void> | undefined
  #shutdownPromise: Promise<void> | undefined
  #forceStop: (() => void) | undefined

  constructor(options: KinesisConsumerOptions) {
    this.#config = resolveConsumerConfig(options)
    const config = this.#config
    const logger = childLogger(config.logger, { workerId: config.workerId })
    this.#events = new EventHub(logger)
    const common = { region: config.region, credentials: config.credentials }
    // Fails here, before any client or timer, when tracing is on without @opentelemetry/api.
    if (config.tracing) loadTracingApi()
    // Before the AWS clients: a bad cloudWatch option must not leave sockets behind.
    this.#cloudWatch =
      config.cloudWatch === undefined
        ? undefined
        : cloudWatchSink('cloudWatch', config.cloudWatch, { namespace: config.applicationName, ...common }, (error) =>
            logger.warn({ err: error }, 'CloudWatch PutMetricData failed'),
          )
    // A sink that throws must not fail a processed batch (it would be redelivered) or a lease write.
    const metrics = isolatedMetrics(
      this.#cloudWatch === undefined ? [config.metrics] : [config.metrics, this.#cloudWatch],
      (error, suppressed) => logger.warn({ err: error, suppressed }, 'a metrics sink threw; measurement dropped'),
    )
    this.#kinesis = kinesisClientFrom(config.kinesisClient, {
      ...common,
      endpoint: config.endpoint,
      requestTimeoutMs: config.kinesisRequestTimeoutMillis,
    })
    this.#dynamodb = dynamoDBClientFrom(config.dynamoDBClient, {
      ...common,
      endpoint: config.dynamoDBEndpoint,
      requestTimeoutMs: config.dynamoDbRequestTimeoutMillis,
      // Lease writes are safe to send again: a retried write whose first try committed fails its
      // condition, and the lease's re-read adopts the counter. Every call is bounded as a whole.
      maxAttempts: 3,
    })
    const context = { kinesis: this.#kinesis.client, dynamodb: this.#dynamodb.client, logger, metrics }
    const kcl3Worker = kcl3WorkerSwitchOf(options)
    try {
      this.#scheduler = new Scheduler({
        ...context,
        config,
        sources: createRecordSourceFactory(config, context),
        host: createProcessorHost(config, context),
        events: this.#events,
        kcl3Worker,
        // The internal 3.x-worker switch alone runs discovery beside an outside leader, and nothing else.
        kcl3Mode:
          kcl3Worker !== undefined && options.clientVersionConfig === undefined
            ? undefined
            : { seams: kcl3ModeSeamsOf(options) },
      })
    } catch (error) {
      this.#destroyClients()
      void this.#cloudWatch?.close()
      throw error
    }
  }

  get workerId(): string {
    return this.#config.workerId
  }

  /** The resolved configuration (defaults applied). */
  get config(): ResolvedConsumerConfig {
    return this.#config
  }

  /** Shard ids whose leases this worker holds now. */
  get leases(): string[] {
    return this.#scheduler.leaseKeys
  }

  /** Polled stats: this worker's leases, their checkpoints, state and lag. */
  stats(): ConsumerStats {
    return { workerId: this.workerId, state: this.#state, shards: this.#scheduler.stats() }
  }

  on<K extends keyof ConsumerEvents>(name: K, listener: (payload: ConsumerEvents[K]) => void): () => void {
    return this.#events.on(name, listener)
  }

  /** Creates the lease table if missing, syncs shards on an empty table, starts the worker loops. */
  start(): Promise<void> {
    if (this.#state === 'stopping' || this.#state === 'stopped') {
      return Promise.reject(new ClosedError('KinesisConsumer'))
    }
    this.#startPromise ??= (async () => {
      this.#state = 'starting'
      await this.#scheduler.start(this.#starting.signal)
      if (this.#state === 'starting') this.#state = 'running'
    })()
    return this.#startPromise
  }

  shutdown(): Promise<void> {
    if (this.#shutdownPromise !== undefined) {
      this.#forceStop?.()
      return this.#shutdownPromise
    }
    const wasStarted = this.#state !== 'new'
    this.#state = 'stopping'
    this.#starting.abort()
    this.#shutdownPromise = (wasStarted ? this.#stopWorker() : Promise.resolve()).finally(() => this.#stopped())
    return this.#shutdownPromise
  }

  /**
   * Stops now, as a crash would: no processor callbacks, no release; other workers take the leases
   * once they expire. Idempotent; a graceful shutdown() in progress is cut short.
   */
  destroy(): Promise<void> {
    if (this.#shutdownPromise !== undefined) {
      this.#forceStop?.()
      return this.#shutdownPromise
    }
    this.#state = 'stopping'
    this.#starting.abort()
    this.#shutdownPromise = (async () => {
      await this.#startPromise?.catch(() => {})
      await this.#scheduler.destroy()
    })().finally(() => this.#stopped())
    return this.#shutdownPromise
  }

  async #stopWorker(): Promise<void> {
    const logger = this.#config.logger
    await this.#startPromise?.catch(() => {})
    let timer: NodeJS.Timeout | undefined
    const forced = new Promise<'forced'>((resolve) => {
      this.#forceStop = () => resolve('forced')
      timer = setTimeout(() => resolve('forced'), this.#config.shutdownTimeoutMillis)
    })
    const graceful = this.#scheduler.shutdown().then(
      () => 'done' as const,
      (error: unknown) => {
        logger.error({ err: error }, 'graceful shutdown failed')
        return 'forced' as const
      },
    )
    const how = await Promise.race([graceful, forced])
    clearTimeout(timer)
    if (how === 'forced') {
      logger.warn({ workerId: this.workerId }, 'shutdown did not finish in time: stopping now, leases left to expire')
      await this.#scheduler.destroy()
    }
  }

  /** After shutdown or destroy: clients freed, the last metric statistics sent (a failure is only logged). */
  async #stopped(): Promise<void> {
    this.#state = 'stopped'
    this.#destroyClients()
    await this.#cloudWatch?.close()
  }

  #destroyClients(): void {
    if (this.#kinesis.owned) this.#kinesis.client.destroy()
    if (this.#dynamodb.owned) this.#dynamodb.client.destroy()
  }
}

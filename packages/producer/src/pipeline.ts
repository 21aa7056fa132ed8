import type { KinesisClient } from '@aws-sdk/client-kinesis'
import { Aggregation } from './aggregation.js'
import { Collector } from './collector.js'
import type { ResolvedProducerConfig } from './config.js'
import { Dispatcher } from './dispatcher.js'
import type { ProducerMetrics } from './metrics.js'
import { type KinesisRecord, type PendingUserRecord, rawKinesisRecord } from './pending.js'
import { Reshard } from './reshard.js'
import { Retries } from './retry.js'
import { Router } from './router.js'
import { Settlement } from './settlement.js'
import type { StreamTarget } from './stream-target.js'

export interface PipelineDeps {
  readonly kinesis: KinesisClient
  readonly metrics: ProducerMetrics
  /** A user record settled: its room is given back. */
  readonly onSettled: (user: PendingUserRecord) => void
  /** Outstanding user records, for UserRecordsPending. */
  readonly outstanding: () => number
  /** The current flush generation: a record of an older one is waited for and goes at once. */
  readonly flushGeneration: () => number
  readonly signal: AbortSignal
}

/**
 * The producer's steps, wired: predict (Router) → aggregate (Aggregation) → collect, rate-limit and
 * send (Dispatcher over the Collector) → settle (Settlement), with Retries and Reshard feeding
 * records back in. The facade (KinesisProducer) hands it admitted user records.
 */
export class Pipeline {
  readonly settlement: Settlement
  readonly #config: ResolvedProducerConfig
  readonly #flushGeneration: () => number
  readonly #collector: Collector
  readonly #aggregation: Aggregation
  readonly #router: Router
  readonly #dispatcher: Dispatcher
  readonly #retries: Retries
  readonly #reshard: Reshard
  #flushImmediate: ReturnType<typeof setImmediate> | undefined
  #destroyed = false

  constructor(config: ResolvedProducerConfig, deps: PipelineDeps) {
    this.#config = config
    this.#flushGeneration = deps.flushGeneration
    const { metrics } = deps
    this.settlement = new Settlement(metrics, config.recordTtl, deps.onSettled)
    this.#collector = new Collector(config.rateLimit, config.preserveOrder)
    this.#dispatcher = new Dispatcher(config, {
      kinesis: deps.kinesis,
      metrics,
      collector: this.#collector,
      settlement: this.settlement,
      retries: () => this.#retries,
      reshard: () => this.#reshard,
      outstanding: deps.outstanding,
      onBufferDeadline: (now) => this.#aggregation.sealDue(now),
      signal: deps.signal,
    })
    const dispatcher = this.#dispatcher
    this.#aggregation = new Aggregation(config, {
      enqueue: (record, now) => dispatcher.enqueue(record, now),
      wakeAt: (at, now) => dispatcher.wakeAt(at, now),
    })
    this.#retries = new Retries(config, {
      metrics,
      settlement: this.settlement,
      requeue: (record, now) => this.#collector.add(record, now),
      wake: () => dispatcher.drain(true),
    })
    this.#reshard = new Reshard({
      metrics,
      aggregation: this.#aggregation,
      collector: this.#collector,
      settlement: this.settlement,
      route: (user, now) => this.route(user, now),
      drain: () => dispatcher.drain(false),
    })
    this.#router = new Router({
      aggregationEnabled: config.aggregationEnabled,
      aggregation: this.#aggregation,
      enqueue: (record, now) => dispatcher.enqueue(record, now),
      mustWait: (target) => this.#reshard.mustWait(target),
      hold: (user) => this.#reshard.hold(user),
    })
  }

  /**
   * Routes a record; one that a flush() or close() already waits for (it was held for room or for a
   * shard map when the flush was asked for) goes out now, not after recordMaxBufferedTime.
   */
  route(user: PendingUserRecord, now: number): void {
    this.#router.place(user, now)
    if (user.generation < this.#flushGeneration()) this.#flushSoon()
  }

  /** A ListShards round of `target` ended (see StreamTarget). */
  onShardMap(target: StreamTarget, changed: boolean): void {
    if (this.#destroyed) return
    this.#reshard.onShardMap(target, changed, performance.now())
  }

  /** Seals every open aggregate and sends whatever may go now. */
  sendEverything(): void {
    if (this.#destroyed) return
    this.#aggregation.sealAll(performance.now(), undefined)
    this.#dispatcher.drain(true)
  }

  /** Arrival of the oldest user record not yet settled; +Infinity when there is none. */
  oldestArrival(): number {
    let oldest = Math.min(this.#collector.oldestArrival(), this.#aggregation.oldestArrival, this.#reshard.oldestArrival)
    for (const record of this.#retries.waiting) oldest = Math.min(oldest, record.oldestArrival)
    for (const record of this.#dispatcher.inFlightRecords()) oldest = Math.min(oldest, record.oldestArrival)
    return oldest
  }

  /** Fails every record it holds with Destroyed and stops. */
  destroy(): void {
    if (this.#destroyed) return
    this.#destroyed = true
    const now = performance.now()
    const destroyed = (record: KinesisRecord) =>
      this.settlement.failRecord(record, 'Destroyed', 'the producer was destroyed', now)
    for (const record of this.#aggregation.drainAll(now)) destroyed(record)
    for (const held of this.#reshard.drainAll()) {
      destroyed('users' in held ? held : rawKinesisRecord(held, undefined, 0, now))
    }
    for (const record of this.#collector.drainAll()) destroyed(record)
    for (const record of this.#retries.clear()) destroyed(record)
    for (const record of this.#dispatcher.stop()) destroyed(record)
    this.release()
  }

  /** Frees timers (after close's flush, or on destroy). */
  release(): void {
    clearImmediate(this.#flushImmediate)
    this.#flushImmediate = undefined
    this.#dispatcher.clearTimers()
    this.#retries.clear()
  }

  /** sendEverything once the current burst of routing is over. */
  #flushSoon(): void {
    this.#flushImmediate ??= setImmediate(() => {
      this.#flushImmediate = undefined
      this.sendEverything()
    })
  }
}

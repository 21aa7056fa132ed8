import type { KinesisClient } from '@aws-sdk/client-kinesis'
import { EntryBuilder } from './aggregator.js'
import { Collector } from './collector.js'
import type { ResolvedProducerConfig } from './config.js'
import { Dispatcher } from './dispatcher.js'
import { Lanes } from './lanes.js'
import type { ProducerMetrics } from './metrics.js'
import type { PendingUserRecord } from './pending.js'
import { Reshard } from './reshard.js'
import { Responses } from './responses.js'
import { Retries } from './retry.js'
import { Router } from './router.js'
import { DESTROYED, Settlement } from './settlement.js'
import type { StreamTarget } from './stream-target.js'
import type { ProducerTracing } from './tracing.js'

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
  readonly tracing?: ProducerTracing | undefined
}

/**
 * The producer's steps, wired: predict (Router) → a lane per shard (Lanes) → collect, aggregate and
 * rate-limit (Collector, EntryBuilder) → send (Dispatcher) → read the response (Responses) → settle
 * (Settlement), with Retries and Reshard putting records back. The facade hands it admitted records.
 */
export class Pipeline {
  readonly settlement: Settlement
  readonly #flushGeneration: () => number
  readonly #lanes: Lanes
  readonly #router: Router
  readonly #dispatcher: Dispatcher
  readonly #reshard: Reshard
  #destroyed = false

  constructor(config: ResolvedProducerConfig, deps: PipelineDeps) {
    this.#flushGeneration = deps.flushGeneration
    const { metrics } = deps
    const lanes = new Lanes(config.rateLimit)
    this.#lanes = lanes
    const settlement = new Settlement(metrics, config.recordTtl, deps.onSettled)
    this.settlement = settlement
    const collector = new Collector(config, {
      lanes,
      builder: new EntryBuilder(config.aggregationMaxCount),
      expire: (lane, users, now) =>
        settlement.expire(lane.target, lane.shardId, users, Math.max(users[0]!.arrivedAt, lane.lastFailureAt), now),
      flushGeneration: deps.flushGeneration,
    })
    const dispatcher = new Dispatcher(config, {
      kinesis: deps.kinesis,
      metrics,
      collector,
      responses: () => responses,
      outstanding: deps.outstanding,
      signal: deps.signal,
      tracing: deps.tracing,
    })
    this.#dispatcher = dispatcher
    const reshard = new Reshard({
      metrics,
      lanes,
      settlement,
      route: (user, now) => this.route(user, now),
      drain: () => dispatcher.drain(),
    })
    this.#reshard = reshard
    const retries = new Retries(config, { metrics, settlement, lanes })
    const responses = new Responses({ metrics, settlement, retries, reshard, logger: config.logger })
    this.#router = new Router({ lanes, reshard, dispatcher })
  }

  /**
   * Routes a record; one that a flush() or close() already waits for (it was held for room or for a
   * shard map when the flush was asked for) goes out now, not after recordMaxBufferedTime.
   */
  route(user: PendingUserRecord, now: number): void {
    this.#router.place(user, now)
    if (user.generation < this.#flushGeneration()) this.#dispatcher.drainSoon()
  }

  /** A ListShards round of `target` ended (see StreamTarget). */
  onShardMap(target: StreamTarget, changed: boolean): void {
    if (this.#destroyed) return
    this.#reshard.onShardMap(target, changed, performance.now())
  }

  /** Sends what may go now: after flush(), everything added before it. */
  sendEverything(): void {
    this.#dispatcher.drain()
  }

  /** Arrival of the oldest user record not yet settled; +Infinity when there is none. */
  oldestArrival(): number {
    let oldest = this.#reshard.oldestArrival
    for (const lane of this.#lanes.all()) oldest = Math.min(oldest, lane.queue.peek()?.arrivedAt ?? oldest)
    for (const record of this.#dispatcher.inFlightRecords()) oldest = Math.min(oldest, record.oldestArrival)
    return oldest
  }

  /** Fails every record it holds with Destroyed and stops. */
  destroy(): void {
    if (this.#destroyed) return
    this.#destroyed = true
    const { settlement } = this
    for (const record of this.#dispatcher.stop()) settlement.failUsers(record.users, DESTROYED)
    for (const lane of this.#lanes.all()) settlement.failUsers(this.#lanes.takeAll(lane), DESTROYED)
    settlement.failUsers(this.#reshard.drainAll(), DESTROYED)
  }

  /** Frees timers (after close's flush, or on destroy). */
  release(): void {
    this.#dispatcher.clearTimers()
  }
}

import type { SubscribeToShardEvent } from '@aws-sdk/client-kinesis'
import { AbortedError, ClosedError, backoffDelay, classifyError, sleep } from '@kinesis-ts/shared'
import { childShardsOf, rawBatchOf, subscribePosition } from '../retrieval/raw-records.js'
import type { ChildShardInfo, RawBatch, RecordSource, ShardDescriptor, StartingPosition } from '../seams.js'
import type { ResolvedFanOutSourceOptions } from './options.js'
import { shardClosure } from './shard-lineage.js'
import { Subscription } from './subscription.js'

/** Counters a test or a stats endpoint can read. */
export interface FanOutSourceStats {
  subscriptions: number
  ended: number
  stalls: number
  retries: number
}

/**
 * A shard read through enhanced fan-out. Each subscription starts where the last delivered event
 * left off (AFTER its ContinuationSequenceNumber); subscriptions ended by the service, stalled
 * (no event for stallTimeoutMs) or broken by a retriable fault are replaced, at most one
 * SubscribeToShard per minSubscribeIntervalMs, backing off on ResourceInUseException (the old
 * subscription is still open on the service side for a moment after we drop it).
 */
export class FanOutRecordSource implements RecordSource {
  readonly stats: FanOutSourceStats = { subscriptions: 0, ended: 0, stalls: 0, retries: 0 }
  readonly #options: ResolvedFanOutSourceOptions
  readonly #consumerARN: () => string
  readonly #shard: ShardDescriptor
  readonly #closed = new AbortController()
  #position: StartingPosition
  #subscription: Subscription | undefined
  #lastSubscribeAt = Number.NEGATIVE_INFINITY
  #attempt = 0
  #end: RawBatch | undefined
  #caughtUpSince: number | undefined
  #lastClosureCheckAt = Number.NEGATIVE_INFINITY
  #children: ChildShardInfo[] | undefined
  readonly #onClose: () => void

  constructor(
    options: ResolvedFanOutSourceOptions,
    consumerARN: () => string,
    shard: ShardDescriptor,
    position: StartingPosition,
    onClose: () => void = () => {},
  ) {
    this.#onClose = onClose
    this.#options = options
    this.#consumerARN = consumerARN
    this.#shard = shard
    this.#position = position
  }

  /** True while a subscription (and so a socket or HTTP/2 session) is held. */
  get subscribed(): boolean {
    return this.#subscription !== undefined
  }

  async next(signal: AbortSignal): Promise<RawBatch> {
    const both = AbortSignal.any([signal, this.#closed.signal])
    for (;;) {
      if (this.#closed.signal.aborted) throw new ClosedError(`fan-out source of ${this.#shard.shardId}`)
      if (signal.aborted) throw new AbortedError(signal.reason)
      if (this.#end !== undefined) return this.#end
      try {
        const subscription = this.#subscription ?? (await this.#subscribe(both))
        if (subscription === undefined) continue
        const read = await subscription.read(this.#options.stallTimeoutMs, both)
        if (read.kind === 'event') {
          this.#attempt = 0
          return await this.#deliver(read.event, both)
        }
        if (read.kind === 'stalled') {
          this.stats.stalls++
          this.#options.logger.warn({ shardId: this.#shard.shardId }, 'fan-out subscription stalled; resubscribing')
        } else {
          this.stats.ended++
        }
        this.#dropSubscription()
      } catch (error) {
        if (error instanceof AbortedError || this.#closed.signal.aborted) throw this.#abortReason(signal, error)
        this.#dropSubscription()
        await this.#backOff(error, both)
      }
    }
  }

  async close(): Promise<void> {
    this.#closed.abort()
    this.#dropSubscription()
    this.#onClose()
  }

  async #subscribe(signal: AbortSignal): Promise<Subscription | undefined> {
    const wait = this.#lastSubscribeAt + this.#options.minSubscribeIntervalMs - Date.now()
    if (wait > 0) await sleep(wait, signal)
    this.#lastSubscribeAt = Date.now()
    const subscription = new Subscription(this.#options.subscriptionClient())
    this.#subscription = subscription
    const opened = await subscription
      .open(
        { consumerARN: this.#consumerARN(), shardId: this.#shard.shardId, position: subscribePosition(this.#position) },
        this.#options.stallTimeoutMs,
        signal,
      )
      .catch((error: unknown) => {
        this.#dropSubscription()
        throw error
      })
    if (opened === 'timeout') {
      this.stats.stalls++
      this.#dropSubscription()
      return undefined
    }
    this.stats.subscriptions++
    return subscription
  }

  async #deliver(event: SubscribeToShardEvent, signal: AbortSignal): Promise<RawBatch> {
    const batch = rawBatchOf(event)
    const continuation = event.ContinuationSequenceNumber
    if (continuation === undefined || continuation === null) {
      // The shard is closed and every record has been sent.
      return this.#endShard(batch, childShardsOf(event.ChildShards), signal)
    }
    this.#position = { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: continuation }
    if (batch.records.length > 0 || batch.millisBehindLatest > 0) {
      this.#caughtUpSince = undefined
      return batch
    }
    this.#caughtUpSince ??= Date.now()
    if (await this.#closedWhileCaughtUp(signal)) return this.#endShard(batch, undefined, signal)
    return batch
  }

  /**
   * A caught-up subscription of a closed shard gets nothing more. AWS then ends it with a null
   * continuation; a service that never does (kinesis-local) would stall the lineage, so after
   * closedShardCheckIntervalMs of being caught up, ListShards tells whether the shard is closed.
   */
  async #closedWhileCaughtUp(signal: AbortSignal): Promise<boolean> {
    const interval = this.#options.closedShardCheckIntervalMs
    const since = this.#caughtUpSince ?? Date.now()
    if (interval === 0 || Date.now() - Math.max(since, this.#lastClosureCheckAt) < interval) return false
    this.#lastClosureCheckAt = Date.now()
    try {
      const closure = await shardClosure(this.#options.kinesis, this.#shard, this.#shard.shardId, signal)
      if (closure.closed) this.#children = closure.children
      return closure.closed
    } catch (error) {
      if (signal.aborted) throw error
      this.#options.logger.warn({ shardId: this.#shard.shardId, err: error }, 'ListShards for shard closure failed')
      return false
    }
  }

  async #endShard(batch: RawBatch, given: ChildShardInfo[] | undefined, signal: AbortSignal): Promise<RawBatch> {
    this.#dropSubscription()
    let childShards = given ?? this.#children
    if (childShards === undefined) {
      childShards = await shardClosure(this.#options.kinesis, this.#shard, this.#shard.shardId, signal)
        .then((closure) => closure.children)
        .catch((error: unknown) => {
          if (signal.aborted) throw error
          // Leave lineage to the consumer's own ListShards fallback.
          this.#options.logger.warn({ shardId: this.#shard.shardId, err: error }, 'ListShards for child shards failed')
          return undefined
        })
    }
    batch.shardEnd = { childShards }
    this.#end = { records: [], millisBehindLatest: 0, shardEnd: { childShards } }
    return batch
  }

  async #backOff(error: unknown, signal: AbortSignal): Promise<void> {
    const { code, retriable } = classifyError(error)
    // ResourceInUse: our previous subscription is still open service-side; it goes away on its own.
    if (!retriable && code !== 'ResourceInUseException') throw error
    this.stats.retries++
    const delay = backoffDelay(this.#attempt++, {
      baseMs: this.#options.backoffBaseMs,
      maxMs: this.#options.backoffMaxMs,
    })
    this.#options.logger.debug({ shardId: this.#shard.shardId, code, delay }, 'fan-out subscription retried')
    await sleep(Math.max(delay, this.#options.backoffBaseMs / 2), signal)
  }

  #dropSubscription(): void {
    this.#subscription?.close()
    this.#subscription = undefined
  }

  #abortReason(signal: AbortSignal, error: unknown): Error {
    if (this.#closed.signal.aborted && !signal.aborted)
      return new ClosedError(`fan-out source of ${this.#shard.shardId}`)
    return error instanceof AbortedError ? error : new AbortedError(signal.reason)
  }
}

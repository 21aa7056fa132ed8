import type { KinesisClient, Shard } from '@aws-sdk/client-kinesis'
import { type Logger, type MetricsSink, listAllShards } from '@kinesis-ts/shared'
import type { ResolvedInitialPosition } from '../config.js'
import type { LeaseStore } from '../leases/lease-store.js'
import { type Lease, newLease } from '../leases/lease.js'
import { METRICS } from '../metrics.js'
import type { ChildShardInfo } from '../seams.js'
import type { StreamRef } from '../stream-ref.js'
import type { ExtendedSequenceNumber } from '../types.js'
import { hashRangeHoles } from './hash-range-audit.js'
import { childShardsIn, parentsOf, rangeOf, shardFilterFor } from './listed-shards.js'

export interface ShardSyncerOptions {
  readonly kinesis: KinesisClient
  readonly store: LeaseStore
  readonly stream: StreamRef
  /** Bound on each ListShards call. */
  readonly requestTimeoutMillis?: number | undefined
  readonly initialPosition: ResolvedInitialPosition
  /** Audits in a row that must find a hole before leases are repaired (Java: 3). */
  readonly holeConfidenceThreshold: number
  readonly logger: Logger
  readonly metrics: MetricsSink
}

const TRIM_HORIZON: ExtendedSequenceNumber = { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 }

/**
 * Keeps the lease table in step with the stream's shards: the first leases from ListShards (with a
 * ShardFilter at the initial position), child leases when a shard ends, and a periodic audit that
 * repairs hash-range holes from a full ListShards.
 */
export class ShardSyncer {
  readonly #options: ShardSyncerOptions
  readonly #shardInfo = new Map<string, Shard>()
  #holeRounds = 0

  constructor(options: ShardSyncerOptions) {
    this.#options = options
  }

  #initialCheckpoint(): ExtendedSequenceNumber {
    return { sequenceNumber: this.#options.initialPosition.type, subSequenceNumber: 0 }
  }

  /** On an empty table: one lease per shard the filter returns, all at the initial position. */
  async initialSync(signal: AbortSignal): Promise<number> {
    const { store, kinesis, stream, initialPosition } = this.#options
    if ((await store.listLeases(signal)).length > 0) return 0
    const shards = await listAllShards(kinesis, {
      ...stream,
      filter: shardFilterFor(initialPosition),
      signal,
      timeoutMs: this.#options.requestTimeoutMillis,
    })
    let created = 0
    for (const shard of shards) {
      this.#remember(shard)
      const lease = newLease(shard.ShardId!, this.#initialCheckpoint(), parentsOf(shard), rangeOf(shard))
      if (await store.createLeaseIfNotExists(lease)) created++
    }
    this.#options.logger.info({ shards: shards.length, created }, 'initial shard sync')
    this.#options.metrics.put(METRICS.shardSyncSuccess, 1, 'Count')
    return created
  }

  /** Leases for the children of a shard that ended; children always start at TRIM_HORIZON. */
  async createChildLeases(parentShardId: string, children: readonly ChildShardInfo[]): Promise<void> {
    const { store } = this.#options
    for (const child of children) {
      await store.createLeaseIfNotExists(newLease(child.shardId, TRIM_HORIZON, child.parentShards, child.hashKeyRange))
    }
    await store.addChildShardIds(
      parentShardId,
      children.map((c) => c.shardId),
    )
  }

  /** Children of a shard from ListShards: the fallback when GetRecords did not name them. */
  async childShardsOf(shardId: string, signal?: AbortSignal): Promise<ChildShardInfo[]> {
    return childShardsIn(await this.#listAll(signal), shardId)
  }

  /** The hash range of a shard (for leases written without one). */
  async hashRangeOf(shardId: string, signal?: AbortSignal) {
    if (!this.#shardInfo.has(shardId)) await this.#listAll(signal)
    const shard = this.#shardInfo.get(shardId)
    return shard === undefined ? undefined : rangeOf(shard)
  }

  /** Whether ListShards lists the shard now (a fresh call: the answer decides a deletion). */
  async shardExists(shardId: string, signal?: AbortSignal): Promise<boolean> {
    return (await this.#listAll(signal)).some((shard) => shard.ShardId === shardId)
  }

  /**
   * The periodic check: holes in the hash ranges of unfinished leases, seen in enough audits in a
   * row (a child lease may be a moment away), trigger a repair from a full ListShards.
   */
  async audit(signal: AbortSignal): Promise<number> {
    const leases = await this.#options.store.listLeases(signal)
    if (leases.length === 0) return this.initialSync(signal)
    const holes = hashRangeHoles(leases)
    this.#holeRounds = holes.length === 0 ? 0 : this.#holeRounds + 1
    if (this.#holeRounds < this.#options.holeConfidenceThreshold) return 0
    this.#options.logger.warn({ holes: holes.length }, 'hash-range holes in the lease table: repairing')
    this.#holeRounds = 0
    return this.repair(leases, signal)
  }

  /**
   * Creates the missing leases: a shard whose parent has a lease starts at TRIM_HORIZON (its parent
   * is read first); an open shard with no leased ancestor starts at the initial position.
   */
  async repair(leases: readonly Lease[], signal?: AbortSignal): Promise<number> {
    const shards = await this.#listAll(signal)
    const leased = new Set(leases.map((lease) => lease.leaseKey))
    let created = 0
    for (const shard of shards) {
      const id = shard.ShardId!
      if (leased.has(id)) continue
      const parents = parentsOf(shard)
      const open = shard.SequenceNumberRange?.EndingSequenceNumber === undefined
      const hasLeasedParent = parents.some((parent) => leased.has(parent))
      if (!hasLeasedParent && !open) continue
      const checkpoint = hasLeasedParent ? TRIM_HORIZON : this.#initialCheckpoint()
      if (await this.#options.store.createLeaseIfNotExists(newLease(id, checkpoint, parents, rangeOf(shard)))) created++
      leased.add(id)
    }
    this.#options.metrics.put(METRICS.shardSyncSuccess, 1, 'Count')
    return created
  }

  async #listAll(signal?: AbortSignal): Promise<Shard[]> {
    // Shard ids grow with creation time, so parents come before their children.
    const shards = await listAllShards(this.#options.kinesis, {
      ...this.#options.stream,
      signal,
      timeoutMs: this.#options.requestTimeoutMillis,
    })
    shards.sort((a, b) => a.ShardId!.localeCompare(b.ShardId!))
    for (const shard of shards) this.#remember(shard)
    return shards
  }

  #remember(shard: Shard): void {
    if (shard.ShardId !== undefined) this.#shardInfo.set(shard.ShardId, shard)
  }
}

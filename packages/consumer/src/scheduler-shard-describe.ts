import type { Logger } from '@kinesis-ts/shared'
import type { ResolvedConsumerConfig } from './config.js'
import type { HeldLease } from './leases/held-lease.js'
import type { LeaseStore } from './leases/lease-store.js'
import { pause } from './loop.js'
import { SHARD_END } from './records/sequence.js'
import type { ShardDescriptor } from './seams.js'
import type { ShardSyncer } from './shard-sync/shard-syncer.js'

/*
 * Step 2 of the scheduler's pipeline, between a lease acquired and its ShardConsumer: what the
 * consumer needs to know of the shard (its hash range), stored on the lease when it was missing.
 */

export interface ShardDescribeOptions {
  readonly config: ResolvedConsumerConfig
  readonly store: LeaseStore
  readonly syncer: ShardSyncer
  readonly logger: Logger
  /** The scheduler's loops: aborted at shutdown. */
  readonly signal: AbortSignal
}

/**
 * The held lease's shard, its hash range from the lease or (a lease written by a KCL before 2.3) from
 * ListShards, tried again with a growing pause until the lease is lost or the scheduler stops. A shard
 * gone from the stream is marked SHARD_END instead: undefined, nothing to consume.
 */
export async function describeShard(
  options: ShardDescribeOptions,
  held: HeldLease,
): Promise<ShardDescriptor | undefined> {
  const { config, logger, store, syncer } = options
  let range = held.lease.hashKeyRange
  for (let attempt = 0; range === undefined; attempt++) {
    try {
      range = await syncer.hashRangeOf(held.leaseKey, held.lostSignal)
      if (range === undefined) {
        // Gone from the stream (trimmed past retention, or a re-created stream): nothing left to
        // read. It ends here, so its children can start and cleanup can delete its lease.
        logger.error({ shardId: held.leaseKey }, 'shard not found in ListShards: marking its lease SHARD_END')
        await held.write((lease) => store.checkpoint(lease, config.workerId, SHARD_END))
        return undefined
      }
      await store.setHashKeyRange(held.leaseKey, range)
    } catch (error) {
      logger.warn({ err: error, shardId: held.leaseKey }, 'could not read the shard hash range')
      if (!(await pause(1_000 * Math.min(attempt + 1, 10), AbortSignal.any([held.lostSignal, options.signal])))) {
        return undefined
      }
    }
  }
  return { shardId: held.leaseKey, streamName: config.streamName, streamARN: config.streamARN, ...range }
}

import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { ConfigurationError, type Logger, retry } from '@kinesis-ts/shared'
import type { ResolvedConsumerConfig } from './config.js'
import type { Kcl3Mode } from './kcl3/kcl3-mode.js'
import type { LeaseStore } from './leases/lease-store.js'
import { ensureLeaseTable } from './leases/lease-table.js'
import type { RecordSourceFactory } from './seams.js'
import type { ShardSyncer } from './shard-sync/shard-syncer.js'

/*
 * The scheduler's start-up, before any lease is taken: the lease table, the refusals, the KCL 3.x
 * mode's layout and client version (which decide the lease protocol), the first shard sync and the
 * retrieval setup.
 */

/** Java MultiStreamLease keys: account id, stream name, creation epoch, shard id. */
const MULTI_STREAM_KEY = /^\d{12}:[^:]+:\d+:.+$/

export interface SchedulerStartupOptions {
  readonly config: ResolvedConsumerConfig
  readonly dynamodb: DynamoDBClient
  readonly store: LeaseStore
  readonly syncer: ShardSyncer
  readonly sources: RecordSourceFactory
  readonly logger: Logger
  readonly kcl3: Kcl3Mode | undefined
  /** In KCL 3.x only the leader creates leases (Java Scheduler); otherwise every worker does. */
  readonly mayCreateLeases: (signal: AbortSignal) => Promise<boolean>
}

/**
 * Transient failures (a backend not up yet, throttling, 5xx) are tried again as the Java KCL does, up
 * to maxInitializationAttempts with schedulerInitializationBackoffTimeMillis between; a terminal one
 * (a missing stream, denied access, a refused table) rejects start() at once.
 */
export async function initializeScheduler(options: SchedulerStartupOptions, signal: AbortSignal): Promise<void> {
  const { config, dynamodb, sources, logger } = options
  const { maxInitializationAttempts, schedulerInitializationBackoffTimeMillis: pauseMs } = config
  await retry(
    async () => {
      await ensureLeaseTable(dynamodb, config.tableName, signal)
      await refuseMultiStreamTable(options, signal)
      await options.kcl3?.prepare(signal)
      if (await options.mayCreateLeases(signal)) await options.syncer.initialSync(signal)
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
async function refuseMultiStreamTable(options: SchedulerStartupOptions, signal: AbortSignal): Promise<void> {
  const { tableName } = options.config
  const multiStream = (await options.store.listLeases(signal)).find((lease) => MULTI_STREAM_KEY.test(lease.leaseKey))
  if (multiStream === undefined) return
  throw new ConfigurationError(
    'tableName',
    `a single-stream lease table; ${tableName} holds multi-stream leases (e.g. ${JSON.stringify(multiStream.leaseKey)}), which kinesis-ts does not support yet`,
    tableName,
  )
}

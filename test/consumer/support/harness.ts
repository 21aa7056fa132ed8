import { ScanCommand } from '@aws-sdk/client-dynamodb'
import { type KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis'
import { ShardMap, encodeAggregated, hashKeyOf, sleep } from '@kinesis-ts/shared'
import { expect } from 'vitest'
import {
  type KinesisClientRecord,
  KinesisConsumer,
  type KinesisConsumerOptions,
  type ProcessRecordsInput,
  type ShardRecordProcessor,
} from '../../../packages/consumer/src/index.js'
import { KCL3_WORKER_MODE } from '../../../packages/consumer/src/kcl3/worker-mode.js'
import { leaseFromItem } from '../../../packages/consumer/src/leases/lease-serializer.js'
import { ensureLeaseTable } from '../../../packages/consumer/src/leases/lease-table.js'
import type { Lease } from '../../../packages/consumer/src/leases/lease.js'
import { dynamoDBClient, kinesisClient, listAllShards } from '../../support/aws.js'

/** Timings scaled down so failover and handoff scenarios run in seconds. */
export const FAST = {
  failoverTimeMillis: 1_500,
  leaseTakerIntervalMillis: 300,
  idleTimeBetweenReadsInMillis: 100,
  shardSyncIntervalMillis: 500,
  parentShardPollIntervalMillis: 150,
  completedLeaseCleanupIntervalMillis: 500,
  processingRetryBackoffBaseMillis: 50,
  processingRetryBackoffMaxMillis: 400,
  shutdownTimeoutMillis: 10_000,
  // Under the 1.35 s self-fence of a 1.5 s failover, with room for a busy 2-core CI machine.
  dynamoDbRequestTimeoutMillis: 1_000,
  // The default (failover / 20 = 75 ms) would have the fleet scan dynalite 13 times a second.
  leaseExpiryWatchIntervalMillis: 250,
} satisfies Partial<KinesisConsumerOptions>

export interface Delivery {
  readonly workerId: string
  readonly shardId: string
  readonly partitionKey: string
  readonly data: string
  readonly sequenceNumber: string
  readonly subSequenceNumber: number
  readonly aggregated: boolean
}

/** Everything every processor of a test saw, in delivery order, plus lifecycle calls. */
export class Journal {
  readonly deliveries: Delivery[] = []
  readonly calls: { workerId: string; shardId: string; call: string; at: number; detail?: unknown }[] = []

  call(workerId: string, shardId: string, call: string, detail?: unknown): void {
    this.calls.push({ workerId, shardId, call, at: Date.now(), detail })
  }

  callsOf(name: string): Journal['calls'] {
    return this.calls.filter((c) => c.call === name)
  }

  /** Data strings per partition key, in delivery order. */
  byKey(): Map<string, string[]> {
    const out = new Map<string, string[]>()
    for (const d of this.deliveries) push(out, d.partitionKey, d.data)
    return out
  }

  distinctData(): Set<string> {
    return new Set(this.deliveries.map((d) => d.data))
  }
}

export interface ProcessorBehaviour {
  /** Checkpoint after every batch (default true). */
  checkpointEachBatch?: boolean
  onRecords?: (input: ProcessRecordsInput, shardId: string) => Promise<void> | void
}

/** A processor that journals what it gets and checkpoints like a typical KCL app. */
export function journalingProcessor(
  journal: Journal,
  workerId: () => string,
  behaviour: ProcessorBehaviour = {},
): ShardRecordProcessor {
  let shardId = ''
  return {
    initialize(input) {
      shardId = input.shardId
      journal.call(workerId(), shardId, 'initialize', input.extendedSequenceNumber)
    },
    async processRecords(input) {
      await behaviour.onRecords?.(input, shardId)
      for (const r of input.records) journal.deliveries.push(delivery(workerId(), shardId, r))
      if (behaviour.checkpointEachBatch !== false && input.records.length > 0) await input.checkpointer.checkpoint()
    },
    leaseLost() {
      journal.call(workerId(), shardId, 'leaseLost')
    },
    async shardEnded(input) {
      journal.call(workerId(), shardId, 'shardEnded')
      await input.checkpointer.checkpoint()
    },
    async shutdownRequested(input) {
      journal.call(workerId(), shardId, 'shutdownRequested')
      await input.checkpointer.checkpoint()
    },
  }
}

function delivery(workerId: string, shardId: string, r: KinesisClientRecord): Delivery {
  return {
    workerId,
    shardId,
    partitionKey: r.partitionKey,
    data: Buffer.from(r.data).toString(),
    sequenceNumber: r.sequenceNumber,
    subSequenceNumber: r.subSequenceNumber,
    aggregated: r.aggregated,
  }
}

export interface FleetSetup {
  /**
   * The lease table a fleet on default options starts with (one given `clientVersionConfig` or the
   * internal 3.x-worker switch always makes its own): 'kcl2' (the default) pre-creates it as a Java 2.x
   * worker leaves it, without the LeaseOwnerToLeaseKeyIndex, so the default options run the 2.x protocol
   * that FAST is tuned for (taker, steal, expiry watch); 'none' lets the first worker create it, as a new
   * application's does, and the default options then run KCL 3.x.
   */
  readonly leaseTable?: 'kcl2' | 'none'
}

/** Workers of one application in one test; everything is shut down by `close()`. */
export class Fleet {
  readonly kinesis = kinesisClient()
  readonly dynamodb = dynamoDBClient()
  readonly workers: KinesisConsumer[] = []
  readonly journal = new Journal()
  readonly #base: Omit<KinesisConsumerOptions, 'processorFactory'>
  readonly #behaviour: ProcessorBehaviour
  readonly #setup: FleetSetup
  #tableChecked = false

  constructor(
    streamName: string,
    applicationName: string,
    options: Partial<KinesisConsumerOptions> = {},
    behaviour: ProcessorBehaviour = {},
    setup: FleetSetup = {},
  ) {
    this.#setup = setup
    this.#base = {
      streamName,
      applicationName,
      initialPosition: 'TRIM_HORIZON',
      kinesisClient: this.kinesis,
      dynamoDBClient: this.dynamodb,
      ...FAST,
      ...options,
    }
    this.#behaviour = behaviour
  }

  async start(
    workerId: string,
    options: Partial<KinesisConsumerOptions> = {},
    behaviour: ProcessorBehaviour = this.#behaviour,
  ): Promise<KinesisConsumer> {
    const merged: KinesisConsumerOptions = {
      ...this.#base,
      workerId,
      processorFactory: () => journalingProcessor(this.journal, () => workerId, behaviour),
      ...options,
    }
    await this.#kcl2TableFor(merged)
    const worker = new KinesisConsumer(merged)
    this.workers.push(worker)
    await worker.start()
    return worker
  }

  /** Once per fleet, before its first worker on default options: see FleetSetup.leaseTable. */
  async #kcl2TableFor(options: KinesisConsumerOptions): Promise<void> {
    if (this.#tableChecked) return
    this.#tableChecked = true
    const defaults = options.clientVersionConfig === undefined && !(KCL3_WORKER_MODE in options)
    if (!defaults || (this.#setup.leaseTable ?? 'kcl2') !== 'kcl2') return
    const table = options.tableName ?? options.applicationName
    // A table the test made itself is left as it is (a no-op when it exists).
    await ensureLeaseTable(this.dynamodb, table, AbortSignal.timeout(30_000), { leaseOwnerIndex: false })
  }

  /** The lease table as the workers left it (skipping non-lease items). */
  async leases(): Promise<Map<string, Lease>> {
    const { Items } = await this.dynamodb.send(
      new ScanCommand({ TableName: this.#base.applicationName, ConsistentRead: true }),
    )
    const out = new Map<string, Lease>()
    for (const item of Items ?? []) {
      const lease = leaseFromItem(item)
      if (lease !== undefined) out.set(lease.leaseKey, lease)
    }
    return out
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.shutdown()))
    this.kinesis.destroy()
    this.dynamodb.destroy()
  }
}

/** Puts records (500 per call), retrying the ones the service refused. */
export async function putAll(
  kinesis: KinesisClient,
  streamName: string,
  records: { partitionKey: string; data: Uint8Array; explicitHashKey?: string }[],
): Promise<void> {
  for (let i = 0; i < records.length; i += 500) {
    let pending = records.slice(i, i + 500)
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 20) throw new Error('PutRecords kept failing')
      const out = await kinesis.send(
        new PutRecordsCommand({
          StreamName: streamName,
          Records: pending.map((r) => ({
            PartitionKey: r.partitionKey,
            Data: r.data,
            ExplicitHashKey: r.explicitHashKey,
          })),
        }),
      )
      pending = pending.filter((_, j) => out.Records?.[j]?.ErrorCode !== undefined)
      if (pending.length > 0) await sleep(100)
    }
  }
}

export async function waitFor(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(50)
  }
}

/**
 * Puts user records as KPL aggregates, as the producer would: grouped by the shard their key maps
 * to (so every sub-record belongs to the shard that stores the aggregate), in order per shard.
 */
export async function putAggregated(
  kinesis: KinesisClient,
  streamName: string,
  records: { partitionKey: string; data: Uint8Array }[],
  perAggregate = 100,
): Promise<number> {
  const map = new ShardMap(await listAllShards(kinesis, streamName))
  const byShard = new Map<string, { partitionKey: string; data: Uint8Array }[]>()
  for (const record of records) push(byShard, map.shardFor(hashKeyOf(record.partitionKey))!, record)
  const outer: { partitionKey: string; data: Uint8Array; explicitHashKey: string }[] = []
  for (const list of byShard.values()) {
    for (let i = 0; i < list.length; i += perAggregate) {
      const chunk = list.slice(i, i + perAggregate)
      outer.push({
        partitionKey: 'a',
        explicitHashKey: hashKeyOf(chunk[0]!.partitionKey).toString(),
        data: encodeAggregated(chunk),
      })
    }
  }
  // Per-shard order survives any interleaving across shards; PutRecords keeps request order per shard.
  await putAll(kinesis, streamName, outer)
  return outer.length
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key)
  if (list === undefined) map.set(key, [value])
  else list.push(value)
}

/** Each key's values in the order first delivered must be the order they were put (`key:0`, `key:1`...). */
export function expectPerKeyOrder(byKey: Map<string, string[]>, perKey: number): void {
  for (const [key, values] of byKey) {
    const firstSeen = [...new Set(values)]
    expect(firstSeen, `order of key ${key}`).toEqual(Array.from({ length: perKey }, (_, i) => `${key}:${i}`))
  }
}

/** `count` partition keys (prefix-N) whose hash keys fall in `shardId`'s range. */
export function keysFor(map: ShardMap, shardId: string, count: number, prefix = 'key'): string[] {
  const keys: string[] = []
  for (let i = 0; keys.length < count; i++) {
    const key = `${prefix}-${i}`
    if (map.shardFor(hashKeyOf(key)) === shardId) keys.push(key)
  }
  return keys
}

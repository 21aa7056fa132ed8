// Fixtures for the producer's unit tests (not exported by the package).
import type { KinesisClient } from '@aws-sdk/client-kinesis'
import { PartitionKeyEntry, encodeHeaderTags, hashKeyOf, hashKeyParts } from '@kinesis-ts/shared'
import type { PendingUserRecord } from './pending.js'
import { Rejection } from './settlement.js'
import type { StreamTarget } from './stream-target.js'
import type { UserRecordResult } from './types.js'

export const testTarget = { key: 'name:s', label: 's' } as StreamTarget

export interface TestUser extends PendingUserRecord {
  /** What the promise of the record settled with, once it did. */
  outcome: { result?: UserRecordResult; error?: unknown } | undefined
}

/** One entry per key, as the producer's HashKeyCache hands them out for a hot key. */
const entries = new Map<string, PartitionKeyEntry>()
function entryOf(partitionKey: string): PartitionKeyEntry {
  let entry = entries.get(partitionKey)
  if (entry === undefined) {
    entry = new PartitionKeyEntry(partitionKey)
    entries.set(partitionKey, entry)
  }
  return entry
}

/** A pending user record of `size` data bytes (the data holds `tag` when given). */
export function testUser(
  partitionKey: string,
  size: number,
  options: {
    explicitHashKey?: string
    arrivedAt?: number
    tag?: string
    target?: StreamTarget
    headers?: Record<string, string>
  } = {},
): TestUser {
  const tags = options.headers === undefined ? undefined : encodeHeaderTags(options.headers)
  const data = new Uint8Array(size).fill(7)
  if (options.tag !== undefined) data.set(Buffer.from(options.tag).subarray(0, size))
  const entry = options.explicitHashKey === undefined ? entryOf(partitionKey) : undefined
  const user: TestUser = {
    headers: options.headers,
    partitionKey,
    explicitHashKey: options.explicitHashKey,
    hashKey: entry ?? hashKeyParts(BigInt(options.explicitHashKey!)),
    partitionKeySlot: entry,
    data,
    dataLength: data.length,
    writeDataTo: (out, offset) => {
      out.set(data, offset)
      return offset + data.length
    },
    bytes: size + Buffer.byteLength(partitionKey) + (tags?.length ?? 0),
    tags,
    target: options.target ?? testTarget,
    arrivedAt: options.arrivedAt ?? 0,
    generation: 0,
    attempts: undefined,
    settled: false,
    outcome: undefined,
    resolve: (result) => {
      // A failure comes as a Rejection (see Settlement.failUser).
      user.outcome = result instanceof Rejection ? { error: result.error } : { result: result as UserRecordResult }
    },
  }
  return user
}

/** One entry of a PutRecords request the stub received. */
export interface StubEntry {
  readonly data: Buffer
  readonly partitionKey: string
  readonly explicitHashKey: string | undefined
}

export interface StubShard {
  readonly shardId: string
  readonly start: bigint
  readonly end: bigint
}

export interface StubPut {
  readonly entries: StubEntry[]
  /** performance.now() when the request arrived. */
  readonly at: number
}

/** How the stub answers one entry: stored on a shard, or an error code. */
export type StubAnswer = { readonly shardId: string } | { readonly errorCode: string }

export interface StubKinesisOptions {
  /** Open shards, as ListShards lists them (default: one shard over the whole key space). */
  shards?: () => readonly StubShard[]
  /** Delay of every PutRecords answer, in ms (default 0: next macrotask). */
  delayMs?: number
  /** Decides an entry's fate; default: stored on the shard owning its hash key. */
  answer?: (entry: StubEntry, owner: string, put: StubPut, index: number) => StubAnswer
}

const MAX_HASH = (1n << 128n) - 1n

/**
 * A Kinesis client stub for the producer's unit tests: ListShards lists `shards`, PutRecords stores
 * each entry on the shard owning its hash key (or answers as `answer` says), after `delayMs`. What
 * it received is in `puts`; what it stored, per shard in order, in `stored`.
 */
export function stubKinesis(options: StubKinesisOptions = {}) {
  const shards = options.shards ?? (() => [{ shardId: 'shardId-0', start: 0n, end: MAX_HASH }])
  const puts: StubPut[] = []
  const stored = new Map<string, StubEntry[]>()
  let sequence = 0
  const ownerOf = (entry: StubEntry) => {
    const hashKey = entry.explicitHashKey === undefined ? hashKeyOf(entry.partitionKey) : BigInt(entry.explicitHashKey)
    return shards().find((s) => s.start <= hashKey && hashKey <= s.end)?.shardId ?? 'none'
  }
  const send = (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
    if (command.constructor.name === 'ListShardsCommand') {
      return Promise.resolve({
        Shards: shards().map((s) => ({
          ShardId: s.shardId,
          HashKeyRange: { StartingHashKey: String(s.start), EndingHashKey: String(s.end) },
        })),
      })
    }
    const input = command.input as {
      Records: { Data: Uint8Array; PartitionKey: string; ExplicitHashKey?: string }[]
    }
    // Copied now: what the producer handed over at send time is what counts.
    const entries = input.Records.map((r) => ({
      data: Buffer.from(r.Data),
      partitionKey: r.PartitionKey,
      explicitHashKey: r.ExplicitHashKey,
    }))
    const put: StubPut = { entries, at: performance.now() }
    puts.push(put)
    return new Promise((resolve) =>
      setTimeout(() => {
        const results = entries.map((entry, i) => {
          const owner = ownerOf(entry)
          const answer = options.answer?.(entry, owner, put, i) ?? { shardId: owner }
          if ('errorCode' in answer) return { ErrorCode: answer.errorCode, ErrorMessage: 'stub' }
          const onShard = stored.get(answer.shardId) ?? []
          onShard.push(entry)
          stored.set(answer.shardId, onShard)
          return { ShardId: answer.shardId, SequenceNumber: String(++sequence) }
        })
        resolve({ FailedRecordCount: results.filter((r) => 'ErrorCode' in r).length, Records: results })
      }, options.delayMs ?? 0),
    )
  }
  const client = { send, destroy: () => {} } as unknown as KinesisClient
  return { client, puts, stored }
}

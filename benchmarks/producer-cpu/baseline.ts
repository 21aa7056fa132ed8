/**
 * What the producer did per record before issue 16's CPU work, kept as the baseline each run is
 * compared with: a partition key → BigInt cache (node:crypto MD5, hex, BigInt) and the SDK's own
 * PutRecords serialization and deserialization.
 */
import {
  type KinesisClient,
  PutRecordsCommand,
  type PutRecordsCommandOutput,
  type PutRecordsRequestEntry,
} from '@aws-sdk/client-kinesis'
import { hashKeyOf } from '@kinesis-ts/shared'

/** The HashKeyCache of before: two generations of partition key → BigInt hash key. */
export class BigIntHashKeyCache {
  #young = new Map<string, bigint>()
  #old = new Map<string, bigint>()
  readonly #maxEntries: number

  constructor(maxEntries = 10_000) {
    this.#maxEntries = maxEntries
  }

  get(partitionKey: string): bigint {
    const young = this.#young.get(partitionKey)
    if (young !== undefined) return young
    const hashKey = this.#old.get(partitionKey) ?? hashKeyOf(partitionKey)
    if (this.#young.size >= this.#maxEntries) {
      this.#old = this.#young
      this.#young = new Map()
    }
    this.#young.set(partitionKey, hashKey)
    return hashKey
  }
}

export interface BenchRecord {
  readonly data: Uint8Array
  readonly partitionKey: string
  readonly explicitHashKey: string | undefined
}

/** putRecords of before: the records as SDK entries, serialized and deserialized by the SDK. */
export function sdkPutRecords(
  kinesis: KinesisClient,
  streamName: string,
  records: readonly BenchRecord[],
): Promise<PutRecordsCommandOutput> {
  const entries = new Array<PutRecordsRequestEntry>(records.length)
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!
    entries[i] =
      record.explicitHashKey === undefined
        ? { Data: record.data, PartitionKey: record.partitionKey }
        : { Data: record.data, PartitionKey: record.partitionKey, ExplicitHashKey: record.explicitHashKey }
  }
  return kinesis.send(new PutRecordsCommand({ StreamName: streamName, Records: entries }))
}

import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

/** The interop vectors, made by implementations independent of this project: see packages/shared/vectors/README.md. */
const vectorsDir = fileURLToPath(new URL('../../vectors/', import.meta.url))

export interface VectorRecord {
  partitionKey: string
  explicitHashKey?: string
  data: string
  /** The record's KPL tags, in the `tagged-*` vectors. */
  headers?: Record<string, string>
}
export interface AggregationVector {
  name: string
  userRecords: VectorRecord[]
  aggregated: VectorRecord
  source: string
}
export interface CorruptVector {
  name: string
  data: string
}

export function loadAggregationVectors(): { vectors: AggregationVector[]; corrupt: CorruptVector[] } {
  return JSON.parse(readFileSync(`${vectorsDir}kpl-aggregated.json`, 'utf8'))
}

export function loadHashKeyVectors(): { partitionKey: string; hashKey: string }[] {
  return JSON.parse(readFileSync(`${vectorsDir}md5-hash-keys.json`, 'utf8')).vectors
}

/** aws-kinesis-agg, used as an independent oracle (its typings pull in aws-sdk v2, so typed here). */
export interface AwsKinesisAgg {
  deaggregateSync(
    record: { partitionKey: string; explicitPartitionKey?: string; data: string; sequenceNumber?: string },
    computeChecksums: boolean,
    done: (
      error: Error | null | undefined,
      records?: { partitionKey: string; explicitPartitionKey?: string; data: string; subSequenceNumber?: number }[],
    ) => void,
  ): void
  aggregate(
    records: { partitionKey: string; explicitHashKey?: string; data: Buffer }[],
    onEncoded: (encoded: { partitionKey: string; explicitHashKey?: string; data: Buffer }, next: () => void) => void,
    afterAll: () => void,
    onError: (error: Error) => void,
    queueSize?: number,
  ): void
}

export const awsKinesisAgg = createRequire(import.meta.url)('aws-kinesis-agg') as AwsKinesisAgg

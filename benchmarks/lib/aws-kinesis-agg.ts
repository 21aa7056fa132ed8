/**
 * aws-kinesis-agg, the official Node aggregation library, as a peer in benchmarks: its callback API
 * typed and promisified once.
 */
import { createRequire } from 'node:module'

export interface AggInput {
  partitionKey: string
  data: Buffer
}

export interface AggEncoded {
  partitionKey: string
  explicitHashKey?: string
  data: Buffer
}

/** aws-kinesis-agg's incremental aggregator: records in, one aggregate of at most 1 MiB out. */
export interface RecordAggregator {
  checkIfUserRecordFits(record: AggInput): boolean
  /** @throws when the record does not fit (check first). */
  addUserRecord(record: AggInput): void
  /** The aggregate of every record added since the last build (undefined when none), and a fresh start. */
  build(): AggEncoded | undefined
  length(): number
}

interface AwsKinesisAgg {
  RecordAggregator: new () => RecordAggregator
  aggregate(
    records: AggInput[],
    onEncoded: (encoded: AggEncoded, next: () => void) => void,
    afterAll: () => void,
    onError: (error: Error) => void,
  ): void
  deaggregateSync(
    record: { partitionKey: string; data: string },
    checksums: boolean,
    done: (error: Error | null | undefined, records?: unknown[]) => void,
  ): void
}

export const awsKinesisAgg = createRequire(import.meta.url)('aws-kinesis-agg') as AwsKinesisAgg

/** Every aggregate aws-kinesis-agg makes of `records`, in order. */
export function aggregateAll(records: AggInput[]): Promise<AggEncoded[]> {
  return new Promise((resolve, reject) => {
    const out: AggEncoded[] = []
    awsKinesisAgg.aggregate(
      records,
      (encoded, next) => {
        out.push(encoded)
        next()
      },
      () => resolve(out),
      reject,
    )
  })
}

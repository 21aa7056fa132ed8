import type { MetricDimensions, MetricUnit, MetricsSink } from '@kinesis-ts/shared'

/** The Java KPL's metric names. */
export const PRODUCER_METRICS = Object.freeze({
  UserRecordsReceived: 'UserRecordsReceived',
  UserRecordsPending: 'UserRecordsPending',
  UserRecordsPut: 'UserRecordsPut',
  UserRecordsDataPut: 'UserRecordsDataPut',
  KinesisRecordsPut: 'KinesisRecordsPut',
  KinesisRecordsDataPut: 'KinesisRecordsDataPut',
  ErrorsByCode: 'ErrorsByCode',
  AllErrors: 'AllErrors',
  RetriesPerRecord: 'RetriesPerRecord',
  UserRecordExpired: 'UserRecordExpired',
  BufferingTime: 'BufferingTime',
  RequestTime: 'RequestTime',
  UserRecordsPerKinesisRecord: 'UserRecordsPerKinesisRecord',
  KinesisRecordsPerPutRecordsRequest: 'KinesisRecordsPerPutRecordsRequest',
  UserRecordsPerPutRecordsRequest: 'UserRecordsPerPutRecordsRequest',
})

/** CloudWatch namespace the KPL publishes under. */
export const PRODUCER_METRICS_NAMESPACE = 'KinesisProducerLibrary'

/**
 * KPL metrics at the KPL's three granularities: global, per stream (`StreamName`) and per shard
 * (`StreamName` + `ShardId`). Emitted per request and per Kinesis record, never per user record,
 * so metrics cost nothing on the hot path.
 */
export class ProducerMetrics {
  readonly #sink: MetricsSink
  readonly #streams = new Map<string, MetricDimensions>()
  readonly #shards = new Map<string, MetricDimensions>()

  constructor(sink: MetricsSink) {
    this.#sink = sink
  }

  /** Puts at global and stream level. */
  stream(name: string, value: number, unit: MetricUnit, stream: string, extra?: MetricDimensions): void {
    this.#sink.put(name, value, unit, extra)
    this.#sink.put(
      name,
      value,
      unit,
      extra === undefined ? this.#streamDims(stream) : { ...this.#streamDims(stream), ...extra },
    )
  }

  /** Puts at global, stream and shard level. */
  shard(name: string, value: number, unit: MetricUnit, stream: string, shardId: string | undefined): void {
    this.stream(name, value, unit, stream)
    if (shardId !== undefined) this.#sink.put(name, value, unit, this.#shardDims(stream, shardId))
  }

  error(code: string, stream: string, shardId: string | undefined, count = 1): void {
    this.stream(PRODUCER_METRICS.ErrorsByCode, count, 'Count', stream, { ErrorCode: code })
    this.shard(PRODUCER_METRICS.AllErrors, count, 'Count', stream, shardId)
  }

  #streamDims(stream: string): MetricDimensions {
    let dims = this.#streams.get(stream)
    if (dims === undefined) {
      dims = Object.freeze({ StreamName: stream })
      this.#streams.set(stream, dims)
    }
    return dims
  }

  #shardDims(stream: string, shardId: string): MetricDimensions {
    const key = `${stream}|${shardId}`
    let dims = this.#shards.get(key)
    if (dims === undefined) {
      dims = Object.freeze({ StreamName: stream, ShardId: shardId })
      this.#shards.set(key, dims)
    }
    return dims
  }
}

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
  /** User records received per stream since the last `emitReceived()`. */
  readonly #received = new Map<string, number>()

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

  /**
   * Counts one user record taken for `stream`. The KPL puts 1 per record at global and stream
   * level; counting here and publishing the total per request keeps the same Sum at a map update
   * per record instead of a metric series lookup per record.
   */
  received(stream: string): void {
    this.#received.set(stream, (this.#received.get(stream) ?? 0) + 1)
  }

  /** Publishes the records counted since the last call as UserRecordsReceived, per stream and globally. */
  emitReceived(): void {
    for (const [stream, count] of this.#received)
      this.stream(PRODUCER_METRICS.UserRecordsReceived, count, 'Count', stream)
    this.#received.clear()
  }

  error(code: string, stream: string, shardId: string | undefined, count = 1): void {
    this.stream(PRODUCER_METRICS.ErrorsByCode, count, 'Count', stream, { ErrorCode: code })
    this.shard(PRODUCER_METRICS.AllErrors, count, 'Count', stream, shardId)
  }

  /** Shards whose dimensions are kept (for tests: closed shards must not stay). */
  get shardsTracked(): number {
    return this.#shards.size
  }

  /** A shard closed: its dimensions are not kept for it any longer. */
  forgetShard(stream: string, shardId: string): void {
    this.#shards.delete(`${stream}|${shardId}`)
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

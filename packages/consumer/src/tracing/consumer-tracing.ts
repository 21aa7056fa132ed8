import {
  MESSAGING_ATTRIBUTES as A,
  KINESIS_MESSAGING_SYSTEM,
  type TraceContext,
  type TracingApi,
  linksTo,
  loadTracingApi,
} from '@kinesis-ts/shared'
import type { KinesisClientRecord } from '../types.js'
import { hasHeaders } from '../workers/wire.js'

/**
 * The context a record's producer put into its headers (W3C traceparent/tracestate, or whatever the
 * global propagator reads), over the active context: a processor starts a child span per record with
 * it (`tracer.startSpan('handle', {}, recordContext(record))`). Works in worker threads too, where the
 * headers arrive with the record. Loads the optional peer dependency `@opentelemetry/api` on first use.
 * @throws ConfigurationError when @opentelemetry/api is not installed.
 */
export function recordContext(record: KinesisClientRecord): TraceContext {
  const api = loadTracingApi('recordContext')
  return api.propagation.extract(api.context.active(), record.headers)
}

/**
 * The consumer's OpenTelemetry tracing (option `tracing: true`): one `process` span (kind CONSUMER)
 * per processRecords call, linked to the producer contexts in its records' headers (at most
 * TRACING_LINK_LIMIT), and active while the processor runs, so spans the processor starts in the same
 * thread are its children.
 */
export class ConsumerTracing {
  readonly #api: TracingApi
  readonly #tracer: ReturnType<TracingApi['trace']['getTracer']>
  readonly #streamName: string
  readonly #applicationName: string

  constructor(streamName: string, applicationName: string, api: TracingApi = loadTracingApi()) {
    this.#api = api
    this.#tracer = api.trace.getTracer('@kinesis-ts/consumer')
    this.#streamName = streamName
    this.#applicationName = applicationName
  }

  /** Runs `call` (one processRecords call for `records` of `shardId`) inside its process span. */
  async process<T>(shardId: string, records: readonly KinesisClientRecord[], call: () => Promise<T>): Promise<T> {
    const api = this.#api
    const active = api.context.active()
    const span = this.#tracer.startSpan(
      `process ${this.#streamName}`,
      {
        kind: api.SpanKind.CONSUMER,
        attributes: {
          [A.system]: KINESIS_MESSAGING_SYSTEM,
          [A.operationName]: 'process',
          [A.operationType]: 'process',
          [A.destinationName]: this.#streamName,
          [A.kinesisStreamName]: this.#streamName,
          [A.partitionId]: shardId,
          [A.consumerGroup]: this.#applicationName,
          [A.batchMessageCount]: records.length,
        },
        links: linksTo(api, producerContexts(api, active, records)),
      },
      active,
    )
    try {
      return await api.context.with(api.trace.setSpan(active, span), call)
    } catch (error) {
      span.setStatus({
        code: api.SpanStatusCode.ERROR,
        message: error instanceof Error ? error.message : String(error),
      })
      if (error instanceof Error) span.recordException(error)
      throw error
    } finally {
      span.end()
    }
  }
}

function* producerContexts(api: TracingApi, active: TraceContext, records: readonly KinesisClientRecord[]) {
  for (const record of records) {
    // Most records carry no headers: skip the propagator for them.
    if (!hasHeaders(record.headers)) continue
    yield api.trace.getSpanContext(api.propagation.extract(active, record.headers))
  }
}

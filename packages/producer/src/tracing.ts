import {
  MESSAGING_ATTRIBUTES as A,
  KINESIS_MESSAGING_SYSTEM,
  type RecordHeaders,
  type TraceSpan,
  type TraceSpanContext,
  type TracingApi,
  linksTo,
  loadTracingApi,
} from '@kinesis-ts/shared'
import type { KinesisRecord } from './pending.js'
import type { PutOutcome } from './sender.js'
import type { StreamTarget } from './stream-target.js'

/**
 * The producer's OpenTelemetry tracing (option `tracing: true`): the context active at addUserRecord
 * goes into the record's headers through the global propagator (W3C traceparent/tracestate by
 * default), and each PutRecords request is one `send` span linked to the contexts of the records it
 * carries (at most TRACING_LINK_LIMIT). Only built when the option is on.
 */
export class ProducerTracing {
  readonly #api: TracingApi
  readonly #tracer: ReturnType<TracingApi['trace']['getTracer']>
  /** The producer context of each traced record, by its encoded headers (one object per record). */
  readonly #contexts = new WeakMap<Uint8Array, TraceSpanContext>()

  constructor(api: TracingApi = loadTracingApi()) {
    this.#api = api
    this.#tracer = api.trace.getTracer('@kinesis-ts/producer')
  }

  /**
   * The caller's headers with the active context injected (the caller's own object is not changed),
   * and that context's span, to link the send span to.
   */
  inject(headers: RecordHeaders | undefined): {
    headers: RecordHeaders | undefined
    context: TraceSpanContext | undefined
  } {
    const api = this.#api
    const active = api.context.active()
    const context = api.trace.getSpanContext(active)
    // Not an object: left as it is for validation to refuse (spreading a string would make headers of it).
    const invalid = headers !== undefined && (typeof headers !== 'object' || headers === null || Array.isArray(headers))
    if (context === undefined || invalid) return { headers, context: undefined }
    const carrier: Record<string, string> = headers === undefined ? {} : { ...headers }
    api.propagation.inject(active, carrier)
    return { headers: carrier, context }
  }

  /** Remembers the producer context of a record by its encoded headers (see inject). */
  remember(tags: Uint8Array | undefined, context: TraceSpanContext | undefined): void {
    if (tags !== undefined && context !== undefined) this.#contexts.set(tags, context)
  }

  /** Starts the span of one PutRecords request (`send {stream}`, kind PRODUCER). */
  startSend(target: StreamTarget, records: readonly KinesisRecord[], userRecords: number): TraceSpan {
    const contexts = this.#contexts
    function* producerContexts() {
      for (const record of records) {
        for (const user of record.users) if (user.tags !== undefined) yield contexts.get(user.tags)
      }
    }
    const stream = target.label
    return this.#tracer.startSpan(`send ${stream}`, {
      kind: this.#api.SpanKind.PRODUCER,
      attributes: {
        [A.system]: KINESIS_MESSAGING_SYSTEM,
        [A.operationName]: 'send',
        [A.operationType]: 'send',
        [A.destinationName]: stream,
        [A.kinesisStreamName]: stream,
        [A.batchMessageCount]: userRecords,
      },
      links: linksTo(this.#api, producerContexts()),
    })
  }

  /** Ends a send span: an error status when the request failed as a whole. */
  endSend(span: TraceSpan, outcome: PutOutcome): void {
    if (!outcome.ok) {
      const error = outcome.error
      span.setStatus({
        code: this.#api.SpanStatusCode.ERROR,
        message: error instanceof Error ? error.message : String(error),
      })
      if (error instanceof Error) span.recordException(error)
    } else {
      let failed = 0
      for (const entry of outcome.entries) if (entry.errorCode !== undefined) failed++
      if (failed > 0) span.setAttribute('kinesis_ts.failed_record_count', failed)
    }
    span.end()
  }
}

import { createRequire } from 'node:module'
import { ConfigurationError } from './errors.js'

/*
 * What producer and consumer tracing use of `@opentelemetry/api`, described here rather than imported:
 * the API is an optional peer dependency, so neither the packages' code nor their type declarations
 * may need it unless tracing is on. The API's own objects fit these shapes.
 */

/** An OpenTelemetry Context (the API's `Context`). */
export interface TraceContext {
  getValue(key: symbol): unknown
  setValue(key: symbol, value: unknown): TraceContext
  deleteValue(key: symbol): TraceContext
}

/** The API's `SpanContext`. */
export interface TraceSpanContext {
  readonly traceId: string
  readonly spanId: string
  readonly traceFlags: number
  readonly isRemote?: boolean | undefined
}

export type TraceAttributes = Record<string, string | number | boolean>

export interface TraceSpan {
  spanContext(): TraceSpanContext
  setAttribute(key: string, value: string | number | boolean): unknown
  setStatus(status: { code: number; message?: string }): unknown
  recordException(exception: Error | string): void
  end(): void
}

export interface TraceSpanOptions {
  kind?: number
  attributes?: TraceAttributes
  links?: { context: TraceSpanContext }[]
}

export interface TracingApi {
  readonly context: {
    active(): TraceContext
    with<R>(context: TraceContext, fn: () => R): R
  }
  readonly propagation: {
    inject(context: TraceContext, carrier: Record<string, string>): void
    extract(context: TraceContext, carrier: Readonly<Record<string, string>>): TraceContext
  }
  readonly trace: {
    getTracer(
      name: string,
      version?: string,
    ): {
      startSpan(name: string, options?: TraceSpanOptions, context?: TraceContext): TraceSpan
    }
    getSpanContext(context: TraceContext): TraceSpanContext | undefined
    setSpan(context: TraceContext, span: TraceSpan): TraceContext
    isSpanContextValid(spanContext: TraceSpanContext): boolean
  }
  /** SpanKind.PRODUCER / CONSUMER and SpanStatusCode.ERROR, as the API numbers them. */
  readonly SpanKind: { readonly PRODUCER: number; readonly CONSUMER: number }
  readonly SpanStatusCode: { readonly ERROR: number }
}

/**
 * Links one span carries at most: OpenTelemetry SDKs keep 128 links per span by default
 * (`OTEL_SPAN_LINK_COUNT_LIMIT`) and drop the rest, so a span for a request of 500 records links the
 * first 128 distinct producer contexts.
 */
export const TRACING_LINK_LIMIT = 128

/**
 * The OpenTelemetry messaging semantic conventions (v1.45.0) as these spans use them. They define no
 * `messaging.system` value for Kinesis: 'aws_kinesis' follows the defined 'aws_sqs'.
 */
export const MESSAGING_ATTRIBUTES = Object.freeze({
  system: 'messaging.system',
  operationName: 'messaging.operation.name',
  operationType: 'messaging.operation.type',
  destinationName: 'messaging.destination.name',
  partitionId: 'messaging.destination.partition.id',
  consumerGroup: 'messaging.consumer.group.name',
  batchMessageCount: 'messaging.batch.message_count',
  /** The AWS SDK conventions' stream attribute. */
  kinesisStreamName: 'aws.kinesis.stream_name',
})
export const KINESIS_MESSAGING_SYSTEM = 'aws_kinesis'

let loaded: TracingApi | undefined

/**
 * `@opentelemetry/api`, loaded the first time tracing is asked for (never before, so an application
 * without it loads nothing). Loaded synchronously so `addUserRecord` can inject the active context in
 * the call; the API keeps its providers on a global, so this copy sees what the application registered
 * with its own import of the API, ESM or CommonJS.
 * @throws ConfigurationError naming `option` when the package is not installed.
 */
export function loadTracingApi(option = 'tracing'): TracingApi {
  if (loaded !== undefined) return loaded
  try {
    loaded = createRequire(import.meta.url)('@opentelemetry/api') as TracingApi
  } catch {
    throw new ConfigurationError(
      option,
      "false, or '@opentelemetry/api' installed (tracing needs this optional peer dependency)",
      true,
    )
  }
  return loaded
}

/**
 * The span contexts of `contexts`, distinct and valid, at most TRACING_LINK_LIMIT, as span links.
 */
export function linksTo(
  api: TracingApi,
  contexts: Iterable<TraceSpanContext | undefined>,
): { context: TraceSpanContext }[] {
  const links: { context: TraceSpanContext }[] = []
  const seen = new Set<string>()
  for (const context of contexts) {
    if (context === undefined || !api.trace.isSpanContextValid(context)) continue
    const key = `${context.traceId}/${context.spanId}`
    if (seen.has(key)) continue
    seen.add(key)
    links.push({ context })
    if (links.length >= TRACING_LINK_LIMIT) break
  }
  return links
}

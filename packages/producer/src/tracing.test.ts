import { TRACING_LINK_LIMIT, loadTracingApi } from '@kinesis-ts/shared'
import { context, propagation, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { KinesisRecord } from './pending.js'
import { testTarget, testUser } from './test-helpers.js'
import { ProducerTracing } from './tracing.js'

const exporter = new InMemorySpanExporter()
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  propagation.setGlobalPropagator(new W3CTraceContextPropagator())
  trace.setGlobalTracerProvider(provider)
})
afterAll(async () => {
  trace.disable()
  propagation.disable()
  context.disable()
  await provider.shutdown()
})

const spanContext = (i: number) => ({
  traceId: i.toString(16).padStart(32, 'a'),
  spanId: i.toString(16).padStart(16, 'b'),
  traceFlags: 1,
})
const inSpan = <T>(i: number, fn: () => T): T =>
  context.with(trace.setSpanContext(context.active(), spanContext(i)), fn)

describe('ProducerTracing', () => {
  it('injects the active context into a copy of the headers, and leaves them alone without one', () => {
    const tracing = new ProducerTracing(loadTracingApi())
    const mine = { a: 'b' }
    expect(tracing.inject(mine)).toEqual({ headers: mine, context: undefined })
    expect(tracing.inject(undefined)).toEqual({ headers: undefined, context: undefined })
    const injected = inSpan(1, () => tracing.inject(mine))
    expect(injected.headers).toEqual({
      a: 'b',
      traceparent: `00-${spanContext(1).traceId}-${spanContext(1).spanId}-01`,
    })
    expect(mine).toEqual({ a: 'b' })
    expect(injected.context).toMatchObject(spanContext(1))
    expect(inSpan(1, () => tracing.inject(undefined)).headers).toHaveProperty('traceparent')
    // Headers that are not an object reach validation as they are (a string spread would pass it).
    const bad = 'not headers' as unknown as Record<string, string>
    expect(inSpan(1, () => tracing.inject(bad)).headers).toBe(bad)
    const list = ['x'] as unknown as Record<string, string>
    expect(inSpan(1, () => tracing.inject(list)).headers).toBe(list)
  })

  it("links a send span to its records' distinct contexts, at most TRACING_LINK_LIMIT", () => {
    const tracing = new ProducerTracing(loadTracingApi())
    const users = Array.from({ length: TRACING_LINK_LIMIT + 20 }, (_, i) => {
      const user = testUser(`k${i}`, 1, { headers: { h: '1' } })
      // Records 0 and 1 share a context: one link.
      tracing.remember(user.tags, spanContext(i === 1 ? 0 : i))
      return user
    })
    const untraced = testUser('plain', 1)
    const record = { users: [untraced, ...users] } as unknown as KinesisRecord
    const span = tracing.startSend(testTarget, [record], users.length + 1)
    tracing.endSend(span, { ok: true, entries: [{ errorCode: 'ProvisionedThroughputExceededException' }] })
    const [finished] = exporter.getFinishedSpans()
    expect(finished!.name).toBe('send s')
    expect(finished!.links).toHaveLength(TRACING_LINK_LIMIT)
    expect(finished!.links[0]!.context.spanId).toBe(spanContext(0).spanId)
    expect(finished!.links[1]!.context.spanId).toBe(spanContext(2).spanId)
    expect(finished!.attributes).toMatchObject({
      'messaging.batch.message_count': users.length + 1,
      'kinesis_ts.failed_record_count': 1,
    })
  })
})

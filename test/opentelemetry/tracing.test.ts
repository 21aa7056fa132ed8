import { rmSync } from 'node:fs'
import { decodeAggregated } from '@kinesis-ts/shared'
import { type Span, SpanKind, context, propagation, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { KinesisConsumer, recordContext } from '../../packages/consumer/src/index.js'
import { KinesisProducer } from '../../packages/producer/src/index.js'
import { FAST, Fleet, waitFor } from '../consumer/support/harness.js'
import { readStream } from '../producer/support/read-back.js'
import { clientOptions, createStream, endpoints, kinesisClient, uniqueName } from '../support/aws.js'
import { useLog } from '../workers/support/harness.js'

const kinesis = kinesisClient()
const exporter = new InMemorySpanExporter()
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
const tracer = provider.getTracer('test-app')

beforeAll(() => {
  // What an application's OpenTelemetry setup registers: the producer and consumer see it through the API.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  propagation.setGlobalPropagator(new W3CTraceContextPropagator())
  trace.setGlobalTracerProvider(provider)
})
afterAll(async () => {
  trace.disable()
  propagation.disable()
  context.disable()
  await provider.shutdown()
  kinesis.destroy()
})
afterEach(() => exporter.reset())

const spansNamed = (name: string): ReadableSpan[] => exporter.getFinishedSpans().filter((s) => s.name === name)

/** Adds records inside an active application span, as a request handler would. */
async function produceInSpan(producer: KinesisProducer, name: string, count: number): Promise<Span> {
  return tracer.startActiveSpan(name, async (span) => {
    await Promise.all(
      Array.from({ length: count }, (_, i) =>
        producer.addUserRecord({ partitionKey: `${name}-${i}`, data: `${name}-${i}`, headers: { i: String(i) } }),
      ),
    )
    span.end()
    return span
  })
}

describe('OpenTelemetry tracing from producer to processor', () => {
  it('links the send and process spans to the producing span; a span from recordContext continues its trace', async () => {
    const streamName = await createStream(kinesis, 1, 'tracing')
    const producer = new KinesisProducer({ streamName, tracing: true, ...clientOptions(endpoints().kinesis) })
    const orderA = await produceInSpan(producer, 'order-a', 3)
    const orderB = await produceInSpan(producer, 'order-b', 2)
    await producer.close()

    const sends = spansNamed(`send ${streamName}`)
    expect(sends.length).toBeGreaterThan(0)
    for (const send of sends) {
      expect(send.kind).toBe(SpanKind.PRODUCER)
      expect(send.attributes).toMatchObject({
        'messaging.system': 'aws_kinesis',
        'messaging.operation.name': 'send',
        'messaging.operation.type': 'send',
        'messaging.destination.name': streamName,
        'aws.kinesis.stream_name': streamName,
      })
    }
    const sentLinks = sends.flatMap((s) => s.links.map((l) => l.context.spanId))
    expect(new Set(sentLinks)).toEqual(new Set([orderA.spanContext().spanId, orderB.spanContext().spanId]))
    expect(sends.reduce((n, s) => n + Number(s.attributes['messaging.batch.message_count']), 0)).toBe(5)

    const handled: { data: string; traceId: string; parent: string | undefined; headers: Record<string, string> }[] = []
    const fleet = new Fleet(
      streamName,
      uniqueName('tracing-app'),
      { tracing: true },
      {
        onRecords: (input) => {
          for (const record of input.records) {
            const span = tracer.startSpan('handle', {}, recordContext(record))
            span.end()
            handled.push({
              data: Buffer.from(record.data).toString(),
              traceId: span.spanContext().traceId,
              parent: (span as unknown as ReadableSpan).parentSpanContext?.spanId,
              headers: { ...record.headers },
            })
          }
        },
      },
    )
    try {
      await fleet.start('w')
      await waitFor('all records', () => handled.length >= 5)
    } finally {
      await fleet.close()
    }
    for (const { data, traceId, parent, headers } of handled) {
      const producing = data.startsWith('order-a') ? orderA : orderB
      expect(traceId, data).toBe(producing.spanContext().traceId)
      expect(parent, data).toBe(producing.spanContext().spanId)
      // The caller's headers are kept beside the trace context.
      expect(headers.i).toBe(data.split('-').at(-1))
      expect(headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/)
    }
    const processes = spansNamed(`process ${streamName}`).filter(
      (s) => Number(s.attributes['messaging.batch.message_count']) > 0,
    )
    expect(processes.length).toBeGreaterThan(0)
    for (const process of processes) {
      expect(process.kind).toBe(SpanKind.CONSUMER)
      expect(process.attributes).toMatchObject({
        'messaging.system': 'aws_kinesis',
        'messaging.operation.name': 'process',
        'messaging.destination.name': streamName,
        'messaging.destination.partition.id': 'shardId-000000000000',
      })
    }
    const processLinks = processes.flatMap((s) => s.links.map((l) => l.context.spanId))
    expect(new Set(processLinks)).toEqual(new Set([orderA.spanContext().spanId, orderB.spanContext().spanId]))
  })

  it('with tracing off adds no span and no header, even inside an active span', async () => {
    const streamName = await createStream(kinesis, 1, 'tracing-off')
    const producer = new KinesisProducer({ streamName, ...clientOptions(endpoints().kinesis) })
    await tracer.startActiveSpan('untraced', async (span) => {
      await producer.addUserRecord({ partitionKey: 'k', data: 'plain' })
      await producer.addUserRecord({ partitionKey: 'k', data: 'with-headers', headers: { mine: 'only' } })
      span.end()
    })
    await producer.close()
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['untraced'])
    const stored = await readStream(kinesis, streamName)
    const users = stored.flatMap((r) => decodeAggregated(r.data, r))
    expect(users.map((u) => [Buffer.from(u.data).toString(), { ...u.headers }])).toEqual([
      ['plain', {}],
      ['with-headers', { mine: 'only' }],
    ])
    // The plain record went as it is, not in an aggregate.
    expect(users[0]!.aggregated).toBe(false)
  })

  it('in worker threads: the trace context crosses with the record, recordContext reads it there', async () => {
    const log = useLog()
    const streamName = await createStream(kinesis, 1, 'tracing-workers')
    const producer = new KinesisProducer({ streamName, tracing: true, ...clientOptions(endpoints().kinesis) })
    const order = await produceInSpan(producer, 'order-w', 4)
    await producer.close()
    const fleet = new Fleet(streamName, uniqueName('tracing-workers-app'))
    const worker = new KinesisConsumer({
      streamName,
      applicationName: uniqueName('tracing-workers-app'),
      initialPosition: 'TRIM_HORIZON',
      kinesisClient: fleet.kinesis,
      dynamoDBClient: fleet.dynamodb,
      ...FAST,
      processorModule: new URL('../workers/fixtures/tracing-processor.ts', import.meta.url),
      workerThreads: 1,
      tracing: true,
    })
    let lines: string[][] = []
    try {
      await worker.start()
      await waitFor('every record in the worker', () => log.lines('trace').length >= 4)
      lines = log.lines('trace')
    } finally {
      await worker.shutdown()
      await fleet.close()
      rmSync(log.dir, { recursive: true, force: true })
    }
    const { traceId, spanId } = order.spanContext()
    expect(lines.map((l) => l.slice(1))).toEqual(
      Array.from({ length: 4 }, (_, i) => [`order-w-${i}`, traceId, spanId, String(i)]),
    )
    // The process span is the main thread's, around the call into the worker, linked to the producer.
    const processes = spansNamed(`process ${streamName}`).filter((s) => s.links.length > 0)
    expect(processes.flatMap((s) => s.links.map((l) => l.context.spanId))).toContain(spanId)
  })
})

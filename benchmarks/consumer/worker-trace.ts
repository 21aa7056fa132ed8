/**
 * BENCH_CONSUMER_TRACE=1: a worker writes one `TRACE {json}` line to stderr per lease step (the
 * consumer's debug log: lease taken, reading shard), per Kinesis and DynamoDB call (its latency) and
 * per second of event-loop delay, so the time between "lease held" and "next record processed" can be
 * split into its parts after a run (stderr is the benchmark's own). Off by default: the lines cost.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks'
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import type { KinesisClient } from '@aws-sdk/client-kinesis'
import type { Logger } from '@kinesis-ts/shared'

export const TRACING = process.env.BENCH_CONSUMER_TRACE === '1'

export function traceLine(workerId: string, fields: Record<string, unknown>): void {
  process.stderr.write(`TRACE ${JSON.stringify({ w: workerId, at: Date.now(), ...fields })}\n`)
}

/** The consumer's log, debug included, as trace lines (errors as their message). */
export function traceLogger(workerId: string): Logger {
  const log =
    (level: string) =>
    (objOrMsg: unknown, msg?: string): void => {
      const fields = typeof objOrMsg === 'object' && objOrMsg !== null ? { ...(objOrMsg as object) } : {}
      const text = typeof objOrMsg === 'string' ? objOrMsg : msg
      const err = (fields as { err?: unknown }).err
      traceLine(workerId, {
        kind: 'log',
        level,
        msg: text,
        ...fields,
        ...(err === undefined ? {} : { err: String(err) }),
      })
    }
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') }
}

/** Each call's latency, and for GetRecords its record count, as a trace line. */
export function traceCalls(workerId: string, client: KinesisClient | DynamoDBClient): void {
  ;(client as KinesisClient).middlewareStack.add(
    (next, context) => async (args) => {
      const started = performance.now()
      const input = args.input as { ShardId?: string; ShardIterator?: string; Key?: { leaseKey?: { S?: string } } }
      const op = String(context.commandName).replace(/Command$/, '')
      try {
        const result = await next(args)
        const records = (result.output as { Records?: unknown[] }).Records?.length
        traceLine(workerId, {
          kind: 'call',
          op,
          ms: Math.round(performance.now() - started),
          records,
          key: input.Key?.leaseKey?.S ?? input.ShardId,
        })
        return result
      } catch (error) {
        traceLine(workerId, {
          kind: 'call',
          op,
          ms: Math.round(performance.now() - started),
          failed: String((error as Error).name),
          key: input.Key?.leaseKey?.S ?? input.ShardId,
        })
        throw error
      }
    },
    { step: 'initialize', name: 'benchTraceCalls' },
  )
}

/** The event loop's delay each second (max and p99, ms). */
export function traceEventLoop(workerId: string): NodeJS.Timeout {
  const histogram = monitorEventLoopDelay({ resolution: 10 })
  histogram.enable()
  const timer = setInterval(() => {
    traceLine(workerId, {
      kind: 'loop',
      max: Math.round(histogram.max / 1e6),
      p99: Math.round(histogram.percentile(99) / 1e6),
    })
    histogram.reset()
  }, 1_000)
  timer.unref()
  return timer
}

import type { MetricDimensions, MetricUnit, MetricsSink } from './metrics.js'

/** The PutMetricData input, shaped as the AWS SDK's `PutMetricDataCommandInput` (structurally compatible). */
export interface PutMetricDataInput {
  Namespace: string
  MetricData: {
    MetricName: string
    Dimensions?: { Name: string; Value: string }[]
    Unit: MetricUnit
    Timestamp: Date
    StatisticValues: { SampleCount: number; Sum: number; Minimum: number; Maximum: number }
  }[]
}

export interface CloudWatchMetricsOptions {
  /** e.g. the KCL application name, as the Java KCL publishes under. */
  readonly namespace: string
  /** Sends one request; typically `(input) => cloudwatch.send(new PutMetricDataCommand(input))`. */
  readonly publish: (input: PutMetricDataInput) => Promise<unknown>
  /** Added to every datum (e.g. { WorkerIdentifier }). */
  readonly dimensions?: MetricDimensions
  /** How often buffered statistics are sent; the KCL and KPL default to 60 s. */
  readonly flushIntervalMillis?: number
  readonly onError?: (error: unknown) => void
}

/** PutMetricData takes at most 1000 data per request. */
const MAX_DATA_PER_REQUEST = 1_000

interface Series {
  name: string
  unit: MetricUnit
  dimensions: MetricDimensions
  count: number
  sum: number
  min: number
  max: number
}

export interface CloudWatchMetrics extends MetricsSink {
  /** Sends what is buffered now. */
  flush(): Promise<void>
  /** Stops the timer after a last flush. Idempotent. */
  close(): Promise<void>
}

/**
 * A MetricsSink that publishes to CloudWatch as statistic sets, one per series per interval, so a
 * busy consumer or producer costs one request a minute rather than one per measurement. Takes the
 * caller's PutMetricData function, so kinesis-ts needs no CloudWatch SDK dependency.
 */
export function cloudWatchMetrics(options: CloudWatchMetricsOptions): CloudWatchMetrics {
  let buffer = new Map<string, Series>()
  let closed: Promise<void> | undefined
  const extra = options.dimensions ?? {}
  const timer = setInterval(() => void flush(), options.flushIntervalMillis ?? 60_000)
  // Metrics must never keep a process alive on their own.
  timer.unref()

  function put(name: string, value: number, unit: MetricUnit, dimensions: MetricDimensions = {}): void {
    if (!Number.isFinite(value)) return
    const all = { ...extra, ...dimensions }
    const key = `${name}|${unit}|${Object.keys(all)
      .sort()
      .map((k) => `${k}=${all[k]}`)
      .join(',')}`
    const series = buffer.get(key)
    if (series === undefined) {
      buffer.set(key, { name, unit, dimensions: all, count: 1, sum: value, min: value, max: value })
      return
    }
    series.count++
    series.sum += value
    if (value < series.min) series.min = value
    if (value > series.max) series.max = value
  }

  async function flush(): Promise<void> {
    if (buffer.size === 0) return
    const series = [...buffer.values()]
    buffer = new Map()
    const timestamp = new Date()
    for (let i = 0; i < series.length; i += MAX_DATA_PER_REQUEST) {
      const MetricData = series.slice(i, i + MAX_DATA_PER_REQUEST).map((s) => ({
        MetricName: s.name,
        Dimensions: Object.entries(s.dimensions).map(([Name, Value]) => ({ Name, Value })),
        Unit: s.unit,
        Timestamp: timestamp,
        StatisticValues: { SampleCount: s.count, Sum: s.sum, Minimum: s.min, Maximum: s.max },
      }))
      try {
        await options.publish({ Namespace: options.namespace, MetricData })
      } catch (error) {
        options.onError?.(error)
      }
    }
  }

  return {
    put,
    flush,
    close() {
      closed ??= (async () => {
        clearInterval(timer)
        await flush()
      })()
      return closed
    },
  }
}

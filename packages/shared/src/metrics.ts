/** Units as CloudWatch names them. */
export type MetricUnit = 'Count' | 'Bytes' | 'Milliseconds' | 'Percent' | 'None'

export type MetricDimensions = Readonly<Record<string, string>>

/** Where producer and consumer put their measurements; adapters (CloudWatch, OTel) implement it. */
export interface MetricsSink {
  put(name: string, value: number, unit: MetricUnit, dimensions?: MetricDimensions): void
}

/** Statistics of one metric series over a window. */
export interface MetricSummary {
  readonly name: string
  readonly unit: MetricUnit
  readonly dimensions: MetricDimensions
  readonly sampleCount: number
  readonly sum: number
  readonly min: number
  readonly max: number
  readonly average: number
}

export const noopMetrics: MetricsSink = Object.freeze({ put: () => {} })

interface Bucket {
  second: number
  count: number
  sum: number
  min: number
  max: number
}

interface Series {
  readonly name: string
  readonly unit: MetricUnit
  readonly dimensions: MetricDimensions
  readonly buckets: Bucket[]
}

export interface InMemoryMetricsOptions {
  /** How far back `snapshot()` can look. */
  readonly retentionSeconds?: number
  readonly now?: () => number
}

function seriesKey(name: string, dimensions: MetricDimensions | undefined): string {
  if (dimensions === undefined) return name
  let key = name
  for (const dimension of Object.keys(dimensions).sort()) key += `|${dimension}=${dimensions[dimension]}`
  return key
}

/**
 * Keeps per-second statistics of every series for a rolling window, in fixed memory per series,
 * so `snapshot(60)` answers "what happened in the last minute" as the KPL's getMetrics does.
 */
export class InMemoryMetrics implements MetricsSink {
  readonly #series = new Map<string, Series>()
  readonly #retention: number
  readonly #now: () => number

  constructor(options: InMemoryMetricsOptions = {}) {
    this.#retention = Math.max(1, Math.floor(options.retentionSeconds ?? 300))
    this.#now = options.now ?? Date.now
  }

  put(name: string, value: number, unit: MetricUnit, dimensions?: MetricDimensions): void {
    const key = seriesKey(name, dimensions)
    let series = this.#series.get(key)
    if (series === undefined) {
      series = { name, unit, dimensions: Object.freeze({ ...dimensions }), buckets: [] }
      this.#series.set(key, series)
    }
    const second = Math.floor(this.#now() / 1000)
    const slot = second % this.#retention
    let bucket = series.buckets[slot]
    if (bucket === undefined || bucket.second !== second) {
      bucket = { second, count: 0, sum: 0, min: value, max: value }
      series.buckets[slot] = bucket
    }
    bucket.count++
    bucket.sum += value
    if (value < bucket.min) bucket.min = value
    if (value > bucket.max) bucket.max = value
  }

  /** Statistics over the last `windowSeconds` (default: the whole retention), one per series. */
  snapshot(windowSeconds = this.#retention): MetricSummary[] {
    const newest = Math.floor(this.#now() / 1000)
    const oldest = newest - Math.min(Math.max(1, windowSeconds), this.#retention) + 1
    const out: MetricSummary[] = []
    for (const series of this.#series.values()) {
      let count = 0
      let sum = 0
      let min = Number.POSITIVE_INFINITY
      let max = Number.NEGATIVE_INFINITY
      for (const bucket of series.buckets) {
        if (bucket === undefined || bucket.second < oldest || bucket.second > newest) continue
        count += bucket.count
        sum += bucket.sum
        if (bucket.min < min) min = bucket.min
        if (bucket.max > max) max = bucket.max
      }
      if (count === 0) continue
      out.push({
        name: series.name,
        unit: series.unit,
        dimensions: series.dimensions,
        sampleCount: count,
        sum,
        min,
        max,
        average: sum / count,
      })
    }
    return out
  }
}

/** Sends every measurement to each sink; a failing sink does not stop the others. */
export function fanOutMetrics(...sinks: MetricsSink[]): MetricsSink {
  return isolatedMetrics(sinks)
}

/** How often a failing sink is reported: its first error, then at most once per this many ms. */
const SINK_ERROR_REPORT_INTERVAL_MS = 60_000

/**
 * Sends every measurement to each sink, and keeps a sink that throws from breaking the caller: a
 * metrics adapter must never strand a batch or fail a record. Errors go to `onError` (first one,
 * then at most once a minute per sink, with the count of those not reported).
 */
export function isolatedMetrics(
  sinks: readonly MetricsSink[],
  onError?: (error: unknown, suppressed: number) => void,
): MetricsSink {
  const reported = sinks.map(() => ({ at: Number.NEGATIVE_INFINITY, suppressed: 0 }))
  return {
    put(name, value, unit, dimensions) {
      for (let i = 0; i < sinks.length; i++) {
        try {
          sinks[i]!.put(name, value, unit, dimensions)
        } catch (error) {
          const state = reported[i]!
          const now = performance.now()
          if (onError === undefined || now - state.at < SINK_ERROR_REPORT_INTERVAL_MS) {
            state.suppressed++
            continue
          }
          try {
            onError(error, state.suppressed)
          } catch {
            // A failing logger must not break the data path either.
          }
          state.at = now
          state.suppressed = 0
        }
      }
    },
  }
}

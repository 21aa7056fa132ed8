import { createRequire } from 'node:module'
import type { AwsCredentials } from './clients.js'
import { ConfigurationError } from './errors.js'
import type { MetricDimensions, MetricUnit, MetricsSink } from './metrics.js'
import { durationOption, requiredStringOption } from './validate-options.js'

const DEFAULT_FLUSH_INTERVAL_MS = 60_000

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
  const timer = setInterval(() => void flush(), options.flushIntervalMillis ?? DEFAULT_FLUSH_INTERVAL_MS)
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

/** Built-in CloudWatch publishing (the `cloudWatch` option of producer and consumer). */
export interface CloudWatchOptions {
  /** Defaults: `KinesisProducerLibrary` for the producer, the application name for the consumer (as KPL/KCL). */
  readonly namespace?: string | undefined
  /** Where PutMetricData goes; by default the region and credentials the producer or consumer uses. */
  readonly region?: string | undefined
  readonly endpoint?: string | undefined
  readonly credentials?: AwsCredentials | undefined
  /** Added to every datum. */
  readonly dimensions?: MetricDimensions | undefined
  /** How often buffered statistics are sent (default 60000, as the KPL and KCL). */
  readonly flushIntervalMillis?: number | undefined
}

const CLOUDWATCH_PACKAGE = '@aws-sdk/client-cloudwatch'

interface CloudWatchModule {
  CloudWatchClient: new (config: object) => { send(command: object): Promise<unknown>; destroy(): void }
  PutMetricDataCommand: new (input: PutMetricDataInput) => object
}

/**
 * A CloudWatch sink that publishes through `@aws-sdk/client-cloudwatch`, an optional peer dependency:
 * its presence is checked now (a missing package is a ConfigurationError naming `option`), and it is
 * loaded on the first flush. close() sends what is buffered and frees the SDK client.
 */
export function cloudWatchSink(
  option: string,
  options: CloudWatchOptions,
  defaults: { namespace: string; region?: string | undefined; credentials?: AwsCredentials | undefined },
  onError: (error: unknown) => void,
): CloudWatchMetrics {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigurationError(
      option,
      '{ namespace?, region?, endpoint?, credentials?, flushIntervalMillis? }',
      options,
    )
  }
  const namespace = requiredStringOption(`${option}.namespace`, options.namespace ?? defaults.namespace, {
    maxLength: 255,
  })
  const interval = durationOption(
    `${option}.flushIntervalMillis`,
    options.flushIntervalMillis,
    DEFAULT_FLUSH_INTERVAL_MS,
    1_000,
    3_600_000,
  )
  const require = createRequire(import.meta.url)
  try {
    require.resolve(CLOUDWATCH_PACKAGE)
  } catch {
    throw new ConfigurationError(
      option,
      `the ${CLOUDWATCH_PACKAGE} package installed (npm i ${CLOUDWATCH_PACKAGE})`,
      options,
    )
  }
  let client:
    | Promise<{
        send(command: object): Promise<unknown>
        destroy(): void
        command: CloudWatchModule['PutMetricDataCommand']
      }>
    | undefined
  const connect = () => {
    client ??= (import(CLOUDWATCH_PACKAGE) as Promise<CloudWatchModule>).then((sdk) => {
      const instance = new sdk.CloudWatchClient({
        region: options.region ?? defaults.region,
        endpoint: options.endpoint,
        credentials: options.credentials ?? defaults.credentials,
      })
      return {
        send: (command) => instance.send(command),
        destroy: () => instance.destroy(),
        command: sdk.PutMetricDataCommand,
      }
    })
    return client
  }
  const sink = cloudWatchMetrics({
    namespace,
    dimensions: options.dimensions,
    flushIntervalMillis: interval,
    onError,
    publish: async (input) => {
      const cw = await connect()
      return cw.send(new cw.command(input))
    },
  })
  return {
    put: sink.put,
    flush: sink.flush,
    async close() {
      await sink.close()
      if (client !== undefined) (await client.catch(() => undefined))?.destroy()
    },
  }
}

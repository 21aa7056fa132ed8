/**
 * The OpenTelemetry metrics sink, a subpath of its own (`@kinesis-ts/shared/opentelemetry`) so an
 * application without `@opentelemetry/api` never loads it. It imports only types from the API: the
 * application hands it its MeterProvider.
 */
import type { Attributes, Histogram, Meter, MeterProvider } from '@opentelemetry/api'
import { ConfigurationError } from './errors.js'
import type { MetricDimensions, MetricUnit, MetricsSink } from './metrics.js'
import { stringOption } from './validate-options.js'

export interface OpenTelemetryMetricsSinkOptions {
  /** The instrumentation scope's name (default 'kinesis-ts'). */
  readonly meterName?: string
  /** Put before every metric name, e.g. 'kinesis.' (default none: the KPL/KCL names as documented). */
  readonly prefix?: string
}

/** CloudWatch units as UCUM, as OpenTelemetry names them. */
const UCUM: Readonly<Record<MetricUnit, string>> = Object.freeze({
  Count: '{count}',
  Bytes: 'By',
  Milliseconds: 'ms',
  Percent: '%',
  None: '1',
})

/**
 * A MetricsSink that records every KPL/KCL metric on an OpenTelemetry MeterProvider, under its
 * documented name, with its documented dimensions (StreamName, ShardId, Operation, ...) as attributes:
 * an alternative to the built-in CloudWatch sink (`metrics: new OpenTelemetryMetricsSink(provider)`).
 *
 * Every metric is a histogram: the KPL and KCL publish each one as a CloudWatch statistic set (count,
 * sum, minimum, maximum), and a histogram is the OpenTelemetry instrument that keeps all four, for
 * counts (UserRecordsPut: its sum) and for times and levels (RequestTime, MillisBehindLatest: their
 * maximum) alike.
 */
export class OpenTelemetryMetricsSink implements MetricsSink {
  readonly #meter: Meter
  readonly #prefix: string
  readonly #instruments = new Map<string, Histogram>()

  constructor(meterProvider: MeterProvider, options: OpenTelemetryMetricsSinkOptions = {}) {
    if (typeof (meterProvider as Partial<MeterProvider> | undefined)?.getMeter !== 'function') {
      throw new ConfigurationError('meterProvider', 'an OpenTelemetry MeterProvider (with getMeter())', meterProvider)
    }
    const meterName = stringOption('meterName', options.meterName, { minLength: 1 }) ?? 'kinesis-ts'
    this.#prefix = stringOption('prefix', options.prefix) ?? ''
    this.#meter = meterProvider.getMeter(meterName)
  }

  put(name: string, value: number, unit: MetricUnit, dimensions?: MetricDimensions): void {
    let instrument = this.#instruments.get(name)
    if (instrument === undefined) {
      instrument = this.#meter.createHistogram(this.#prefix + name, { unit: UCUM[unit] ?? '1' })
      this.#instruments.set(name, instrument)
    }
    instrument.record(value, dimensions as Attributes | undefined)
  }
}

import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks'
import type { Logger, MetricsSink } from '@kinesis-ts/shared'
import { METRICS } from '../metrics.js'

export interface EventLoopWatchOptions {
  /** Past this (a third of failoverTimeMillis), renewals run late enough to lose leases. */
  readonly thresholdMillis: number
  readonly logger: Logger
  readonly metrics: MetricsSink
}

/**
 * Watches the event loop's delay. An in-thread processor that computes synchronously holds the
 * loop, and with it the renewal timer: past a third of failoverTimeMillis other workers may take
 * this worker's leases. Says so once, with the fix, and reports the worst delay as a metric.
 */
export class EventLoopWatch {
  readonly #options: EventLoopWatchOptions
  readonly #histogram: IntervalHistogram
  #warned = false

  constructor(options: EventLoopWatchOptions) {
    this.#options = options
    this.#histogram = monitorEventLoopDelay({ resolution: 20 })
  }

  start(): void {
    this.#histogram.enable()
  }

  /** Reports the worst delay since the last check, then starts a new window. */
  check(): number {
    const worstMillis = this.#histogram.count > 0 ? this.#histogram.max / 1e6 : 0
    this.#histogram.reset()
    this.#options.metrics.put(METRICS.eventLoopDelay, worstMillis, 'Milliseconds')
    if (worstMillis > this.#options.thresholdMillis && !this.#warned) {
      this.#warned = true
      this.#options.logger.warn(
        { eventLoopDelayMillis: Math.round(worstMillis), thresholdMillis: this.#options.thresholdMillis },
        'the event loop was blocked for over a third of failoverTimeMillis: lease renewals ran late and leases may ' +
          'be taken by other workers. Move CPU-heavy processing off the main thread with processorModule ' +
          '(worker threads), or split the work with awaits',
      )
    }
    return worstMillis
  }

  stop(): void {
    this.#histogram.disable()
  }
}

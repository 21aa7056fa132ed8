import type { HeldLease } from '../leases/held-lease.js'

/** Java LeaseStatsRecorder: the EMA weight of the newest interval's throughput. */
const THROUGHPUT_EMA_ALPHA = 0.5

interface Measured {
  readonly at: number
  readonly kbps: number
}

/**
 * A held lease's `throughputKBps` as the Java owner writes it with each renewal (kcl3-protocol §5,
 * LeaseStatsRecorder): record data bytes delivered to the processor since the last renewal, in KB/s,
 * smoothed by an EMA (α 0.5). The leader balances on it. The first value counts from when the lease
 * was acquired.
 */
export class ThroughputMeter {
  readonly #last = new WeakMap<HeldLease, Measured>()
  readonly #now: () => number

  constructor(now: () => number = () => performance.now()) {
    this.#now = now
  }

  /** Called when a lease joins this worker: its first interval starts here. */
  start(held: HeldLease): void {
    this.#last.set(held, { at: this.#now(), kbps: Number.NaN })
  }

  /** The value to write with this renewal; consumes the bytes counted since the last one. */
  measure(held: HeldLease): number {
    const now = this.#now()
    const last = this.#last.get(held) ?? { at: now, kbps: Number.NaN }
    const seconds = Math.max(0.001, (now - last.at) / 1_000)
    const current = held.takeDeliveredBytes() / 1_024 / seconds
    const smoothed = Number.isNaN(last.kbps)
      ? current
      : THROUGHPUT_EMA_ALPHA * current + (1 - THROUGHPUT_EMA_ALPHA) * last.kbps
    // Java rounds to 6 decimals before it keeps and writes the value.
    const kbps = Math.round(smoothed * 1e6) / 1e6
    this.#last.set(held, { at: now, kbps })
    return kbps
  }
}

import { Workload, type WorkloadShape } from '../workload.js'
import type { MemoryPeaks } from './memory-peaks.js'

export const epochNow = () => performance.timeOrigin + performance.now()

/** What a contender got for its records, read by the parent after the run. */
export interface ContenderReport {
  readonly contender: string
  readonly offered: number
  readonly succeeded: number
  readonly failed: number
  readonly unsettled: number
  /** Base64 bitmap: bit `id` set when the contender reported record `id` written. */
  readonly successes: string
  /** Epoch ms: the first and the last record handed to the contender. */
  readonly firstOfferAt: number
  readonly lastOfferAt: number
  readonly endedAt: number
  /** process.cpuUsage() of the whole run (client, ListShards, settling), µs. */
  readonly cpuMicros: number
  /** The kernel's peak RSS of the contender process. */
  readonly peakRssMb: number
  /** Sampled peaks of its V8 heap and of the memory outside the heap (see MemoryPeakSampler). */
  readonly peakHeapMb: number
  readonly peakExternalMb: number
  /** Why the run stopped early, when it did. */
  readonly error?: string
}

/**
 * The caller's side of a run: hands out record ids in order while fewer than `window` are unsettled (the
 * caller keeps a bounded number un-awaited), and keeps what each record became.
 */
export class Feeder {
  readonly workload: Workload
  readonly #window: number
  readonly #state: Uint8Array
  #next = 0
  #outstanding = 0
  #succeeded = 0
  #failed = 0
  #wake: (() => void) | undefined
  #firstOfferAt = 0
  #lastOfferAt = 0

  constructor(shape: WorkloadShape, window: number) {
    this.workload = new Workload(shape)
    this.#window = window
    this.#state = new Uint8Array(shape.total)
  }

  get total(): number {
    return this.workload.shape.total
  }

  /** True once every record was handed out. */
  get exhausted(): boolean {
    return this.#next >= this.total
  }

  get settled(): number {
    return this.#succeeded + this.#failed
  }

  /** The next ids, [from, from + count), as many as `max` and the window allow (maybe none). */
  take(max: number): { from: number; count: number } {
    const count = Math.max(0, Math.min(max, this.#window - this.#outstanding, this.total - this.#next))
    const from = this.#next
    if (count > 0) {
      if (from === 0) this.#firstOfferAt = epochNow()
      this.#next += count
      this.#outstanding += count
      if (this.exhausted) this.#lastOfferAt = epochNow()
    }
    return { from, count }
  }

  /** Resolves at the next settlement: room in the window, or the end of the run. */
  settlement(): Promise<void> {
    return new Promise((resolve) => {
      const previous = this.#wake
      this.#wake = () => {
        previous?.()
        resolve()
      }
    })
  }

  succeed(id: number): void {
    this.#settle(id, 1)
  }

  fail(id: number): void {
    this.#settle(id, 2)
  }

  #settle(id: number, state: 1 | 2): void {
    if (this.#state[id] !== 0) return
    this.#state[id] = state
    if (state === 1) this.#succeeded++
    else this.#failed++
    this.#outstanding--
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  }

  /** Resolves once every record is settled, or after `timeoutMs`, whichever comes first. */
  async allSettled(timeoutMs: number): Promise<void> {
    const deadline = epochNow() + timeoutMs
    while (this.settled < this.total) {
      const left = deadline - epochNow()
      if (left <= 0) return
      let timer: ReturnType<typeof setTimeout> | undefined
      const timeout = new Promise((resolve) => {
        timer = setTimeout(resolve, left)
      })
      await Promise.race([this.settlement(), timeout])
      clearTimeout(timer)
    }
  }

  report(contender: string, cpuMicros: number, memory: MemoryPeaks, error?: string): ContenderReport {
    const bits = new Uint8Array(Math.ceil(this.total / 8))
    for (let id = 0; id < this.total; id++)
      if (this.#state[id] === 1) bits[id >>> 3] = bits[id >>> 3]! | (1 << (id & 7))
    return {
      contender,
      offered: this.#next,
      succeeded: this.#succeeded,
      failed: this.#failed,
      unsettled: this.total - this.settled,
      successes: Buffer.from(bits).toString('base64'),
      firstOfferAt: this.#firstOfferAt,
      lastOfferAt: this.#lastOfferAt || epochNow(),
      endedAt: epochNow(),
      cpuMicros,
      peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      ...memory,
      ...(error === undefined ? {} : { error }),
    }
  }
}

/**
 * Peaks of the contender process's V8 heap and of the memory outside it (ArrayBuffers, the SDK's and
 * Node's buffers), sampled every 250 ms: peak RSS alone does not say which of them to cut (issue 16).
 * The kernel's peak RSS stays the measured figure; these only split it, a sample's worth late.
 */
export interface MemoryPeaks {
  readonly peakHeapMb: number
  readonly peakExternalMb: number
}

const SAMPLE_EVERY_MS = 250
const MB = 1024 * 1024

export class MemoryPeakSampler {
  #heap = 0
  #external = 0
  readonly #timer: ReturnType<typeof setInterval>

  constructor() {
    this.#sample()
    this.#timer = setInterval(() => this.#sample(), SAMPLE_EVERY_MS)
    this.#timer.unref()
  }

  /** Samples once more and stops. */
  stop(): MemoryPeaks {
    clearInterval(this.#timer)
    this.#sample()
    return { peakHeapMb: Math.round(this.#heap / MB), peakExternalMb: Math.round(this.#external / MB) }
  }

  #sample(): void {
    const { heapTotal, external } = process.memoryUsage()
    this.#heap = Math.max(this.#heap, heapTotal)
    // `external` includes the ArrayBuffers' backing stores.
    this.#external = Math.max(this.#external, external)
  }
}

/** Put → processRecords latencies, kept whole (the demo's record counts are small) for exact percentiles. */
export class LatencyRecorder {
  #values = new Float64Array(1024)
  #count = 0

  add(ms: number): void {
    if (this.#count === this.#values.length) {
      const grown = new Float64Array(this.#values.length * 2)
      grown.set(this.#values)
      this.#values = grown
    }
    this.#values[this.#count++] = ms
  }

  get count(): number {
    return this.#count
  }

  /** The p-th percentile (0..100), nearest rank; undefined when empty. */
  percentile(p: number): number | undefined {
    if (this.#count === 0) return undefined
    const sorted = this.#values.slice(0, this.#count).sort()
    const rank = Math.min(this.#count - 1, Math.max(0, Math.ceil((p / 100) * this.#count) - 1))
    return sorted[rank]
  }
}

/**
 * Knows when everything added before a flush() has settled. Records are counted per generation;
 * each flush() closes the current generation, and resolves when it and all older ones are empty,
 * so a steady stream of new records cannot hold a flush back.
 */
export class FlushTracker {
  #current = 0
  /**
   * Unsettled records of the current generation, kept out of #pending until a flush closes it:
   * almost every record is added and settled in the current generation, and a field costs less
   * than two Map updates per record.
   */
  #currentPending = 0
  /** Unsettled records per closed generation, oldest first. */
  readonly #pending = new Map<number, number>()
  readonly #waiters: { generation: number; resolve: () => void }[] = []

  get generation(): number {
    return this.#current
  }

  added(generation: number): void {
    if (generation === this.#current) this.#currentPending++
    else this.#pending.set(generation, (this.#pending.get(generation) ?? 0) + 1)
  }

  settled(generation: number): void {
    if (generation === this.#current && this.#currentPending > 0) {
      // No flush waits for the current generation: nothing to wake.
      this.#currentPending--
      return
    }
    const left = (this.#pending.get(generation) ?? 1) - 1
    if (left > 0) {
      this.#pending.set(generation, left)
      return
    }
    this.#pending.delete(generation)
    this.#wake()
  }

  /** Resolves when every record of the current and older generations settled. */
  flush(): Promise<void> {
    const generation = this.#current++
    if (this.#currentPending > 0) this.#pending.set(generation, this.#currentPending)
    this.#currentPending = 0
    return new Promise((resolve) => {
      this.#waiters.push({ generation, resolve })
      this.#wake()
    })
  }

  #wake(): void {
    let oldestPending = Number.POSITIVE_INFINITY
    for (const generation of this.#pending.keys()) {
      oldestPending = generation
      break
    }
    for (let i = this.#waiters.length - 1; i >= 0; i--) {
      const waiter = this.#waiters[i]!
      if (waiter.generation < oldestPending) {
        this.#waiters.splice(i, 1)
        waiter.resolve()
      }
    }
  }
}

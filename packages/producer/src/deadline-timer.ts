/** One-shot timer that can only be moved earlier: arming it later than it is armed does nothing. */
export class DeadlineTimer {
  #timer: ReturnType<typeof setTimeout> | undefined
  #at = Number.POSITIVE_INFINITY
  readonly #fire: () => void

  constructor(fire: () => void) {
    this.#fire = fire
  }

  arm(at: number, now: number): void {
    if (this.#timer !== undefined && this.#at <= at) return
    clearTimeout(this.#timer)
    this.#at = at
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined
        this.#at = Number.POSITIVE_INFINITY
        this.#fire()
      },
      Math.max(0, at - now),
    )
  }

  clear(): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.#at = Number.POSITIVE_INFINITY
  }
}

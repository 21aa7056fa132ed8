import logUpdate from 'log-update'

/**
 * Redraws a small block of lines in place on a terminal; elsewhere (CI logs, pipes) prints the
 * block as plain lines at a slower pace so the log stays readable.
 */
export class LiveView {
  readonly #render: () => string[]
  readonly #tty: boolean
  readonly #stream: NodeJS.WriteStream
  #timer: NodeJS.Timeout | undefined
  #lastPlain = 0

  constructor(render: () => string[], stream: NodeJS.WriteStream, options: { plainEveryMs?: number } = {}) {
    this.#render = render
    this.#stream = stream
    this.#tty = stream.isTTY === true && process.env.CI === undefined
    this.#plainEveryMs = options.plainEveryMs ?? 2000
  }

  readonly #plainEveryMs: number

  start(): void {
    this.#timer ??= setInterval(() => this.refresh(), this.#tty ? 200 : 250)
    this.#timer.unref()
  }

  refresh(force = false): void {
    const lines = this.#render()
    if (this.#tty) {
      logUpdate(lines.join('\n'))
      return
    }
    const now = Date.now()
    if (!force && now - this.#lastPlain < this.#plainEveryMs) return
    this.#lastPlain = now
    this.#stream.write(`${lines.join(' | ')}\n`)
  }

  /** Leaves the last frame on screen and stops redrawing. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
    this.refresh(true)
    if (this.#tty) logUpdate.done()
  }

  /** A line printed above the live block (an event such as "split shardId-1"). */
  log(line: string): void {
    if (this.#tty) {
      logUpdate.clear()
      this.#stream.write(`${line}\n`)
      this.refresh(true)
    } else {
      this.#stream.write(`${line}\n`)
    }
  }
}

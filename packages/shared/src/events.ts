import type { Logger } from './logger.js'

type Listener<T> = (payload: T) => void

/**
 * Typed, namespaced events (`producer.put_records`, `consumer.lease_lost`). Payloads are built
 * only when someone listens, and a listener that throws is logged, never allowed to break the
 * loop that emitted.
 */
export class EventHub<Events extends object> {
  readonly #listeners = new Map<keyof Events, Set<Listener<never>>>()
  readonly #logger: Logger

  constructor(logger: Logger) {
    this.#logger = logger
  }

  /** Subscribes; returns the function that unsubscribes. */
  on<K extends keyof Events>(name: K, listener: Listener<Events[K]>): () => void {
    let set = this.#listeners.get(name)
    if (set === undefined) {
      set = new Set()
      this.#listeners.set(name, set)
    }
    set.add(listener as Listener<never>)
    return () => {
      set.delete(listener as Listener<never>)
      if (set.size === 0) this.#listeners.delete(name)
    }
  }

  has(name: keyof Events): boolean {
    return this.#listeners.has(name)
  }

  /** Emits; pass a function to build the payload only when there are listeners. */
  emit<K extends keyof Events>(name: K, payload: Events[K] | (() => Events[K])): void {
    const set = this.#listeners.get(name)
    if (set === undefined) return
    const value = typeof payload === 'function' ? (payload as () => Events[K])() : payload
    for (const listener of set) {
      try {
        ;(listener as Listener<Events[K]>)(value)
      } catch (error) {
        this.#logger.error({ event: String(name), err: error }, 'event listener threw')
      }
    }
  }
}

import type { KinesisClient } from '@aws-sdk/client-kinesis'
import {
  type HashKeyParts,
  type Logger,
  type PartitionKeyEntry,
  ShardMap,
  classifyError,
  listAllShards,
} from '@kinesis-ts/shared'

/** Refreshes closer together than this are folded into one (a burst of wrong-shard answers). */
const MIN_REFRESH_GAP_MS = 1_000

/**
 * One destination stream and its shard map. The map comes from ListShards (open shards only) and
 * is replaced in the background: records keep flowing on the old map (or unaggregated, before the
 * first one arrives) while a refresh runs, so producing never waits on ListShards.
 */
export class StreamTarget {
  readonly key: string
  readonly streamName: string | undefined
  readonly streamARN: string | undefined
  #map: ShardMap | undefined
  #version = 0
  #refreshing: Promise<void> | undefined
  #lastRefreshAt = Number.NEGATIVE_INFINITY
  #pendingRefresh: ReturnType<typeof setTimeout> | undefined
  /** Aborted by close(): a listing in flight stops with it. */
  readonly #closed = new AbortController()
  #attempted = false
  #signature = ''
  readonly #kinesis: KinesisClient
  readonly #logger: Logger
  readonly #onLoad: (target: StreamTarget, changed: boolean) => void

  constructor(
    stream: { streamName?: string | undefined; streamARN?: string | undefined },
    kinesis: KinesisClient,
    logger: Logger,
    /** After every ListShards round, whether or not it brought a new map. */
    onLoad: (target: StreamTarget, changed: boolean) => void,
  ) {
    this.streamName = stream.streamName
    this.streamARN = stream.streamARN
    this.key = stream.streamARN ?? `name:${stream.streamName}`
    this.#kinesis = kinesis
    this.#logger = logger
    this.#onLoad = onLoad
  }

  /** Name for metrics and logs. */
  get label(): string {
    return this.streamName ?? this.streamARN?.split('/').at(-1) ?? this.key
  }

  /** True once the first ListShards finished, however it went: records stop waiting for a map then. */
  get attempted(): boolean {
    return this.#attempted
  }

  get map(): ShardMap | undefined {
    return this.#map
  }

  /** Bumped on every new map; a record predicted on an older version may need re-routing. */
  get version(): number {
    return this.#version
  }

  /**
   * The open shard that owns `hashKey`, or undefined while no map is known or it has a gap there.
   * With the key's cache entry, a hot key's answer is the one it remembers for this map.
   */
  shardFor(hashKey: HashKeyParts, entry?: PartitionKeyEntry): string | undefined {
    const map = this.#map
    if (map === undefined) return undefined
    return entry === undefined ? map.shardForParts(hashKey) : entry.shardIn(map)
  }

  /** Asks for a new map soon; never waits, never runs two at once. */
  requestRefresh(): void {
    if (this.#closed.signal.aborted || this.#refreshing !== undefined || this.#pendingRefresh !== undefined) return
    const wait = this.#lastRefreshAt + MIN_REFRESH_GAP_MS - performance.now()
    if (wait <= 0) {
      void this.refresh()
      return
    }
    this.#pendingRefresh = setTimeout(() => {
      this.#pendingRefresh = undefined
      void this.refresh()
    }, wait)
  }

  /** Loads the map now (single flight). Failures are logged: the old map stays in use. */
  refresh(): Promise<void> {
    if (this.#closed.signal.aborted) return Promise.resolve()
    this.#refreshing ??= this.#load().then((changed) => {
      this.#refreshing = undefined
      this.#attempted = true
      this.#lastRefreshAt = performance.now()
      if (!this.#closed.signal.aborted) this.#onLoad(this, changed)
    })
    return this.#refreshing
  }

  close(): void {
    this.#closed.abort()
    clearTimeout(this.#pendingRefresh)
    this.#pendingRefresh = undefined
  }

  async #load(): Promise<boolean> {
    try {
      const shards = await listAllShards(this.#kinesis, {
        streamName: this.streamName,
        streamARN: this.streamARN,
        filter: { Type: 'AT_LATEST' },
        signal: this.#closed.signal,
      })
      if (this.#closed.signal.aborted) return false
      const map = new ShardMap(shards)
      const signature = map.shards.map((s) => s.shardId).join(',')
      if (this.#map !== undefined && signature === this.#signature) return false
      this.#signature = signature
      this.#map = map
      this.#version++
      this.#logger.debug({ stream: this.label, shards: this.#map.size, version: this.#version }, 'shard map loaded')
      return true
    } catch (error) {
      if (this.#closed.signal.aborted) return false
      const { code } = classifyError(error)
      this.#logger.warn({ stream: this.label, code, err: error }, 'ListShards failed; keeping the previous shard map')
      return false
    }
  }
}

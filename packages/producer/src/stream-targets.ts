import type { KinesisClient } from '@aws-sdk/client-kinesis'
import { InvalidArgumentError, type Logger } from '@kinesis-ts/shared'
import { StreamTarget } from './stream-target.js'
import type { UserRecord } from './types.js'

export interface StreamTargetsOptions {
  readonly streamName: string | undefined
  readonly streamARN: string | undefined
  readonly shardMapRefreshIntervalMillis: number
  readonly logger: Logger
}

/**
 * The streams a producer writes to, one StreamTarget (and shard map) each: the default stream of
 * the options, and any a record names. Maps are refreshed on a timer as well as on demand.
 */
export class StreamTargets {
  readonly #targets = new Map<string, StreamTarget>()
  readonly #kinesis: KinesisClient
  readonly #logger: Logger
  readonly #onShardMap: (target: StreamTarget, changed: boolean) => void
  readonly #refreshTimer: ReturnType<typeof setInterval>
  readonly #default: StreamTarget | undefined

  constructor(
    kinesis: KinesisClient,
    options: StreamTargetsOptions,
    /** After every ListShards round of any target (see StreamTarget). */
    onShardMap: (target: StreamTarget, changed: boolean) => void,
  ) {
    this.#kinesis = kinesis
    this.#logger = options.logger
    this.#onShardMap = onShardMap
    // Shards change (splits, merges, scaling) without telling producers; wrong-shard answers also
    // trigger a refresh, this catches the rest.
    this.#refreshTimer = setInterval(() => {
      for (const target of this.#targets.values()) void target.refresh()
    }, options.shardMapRefreshIntervalMillis)
    this.#refreshTimer.unref()
    if (options.streamName !== undefined || options.streamARN !== undefined) {
      this.#default = this.#target(options.streamName, options.streamARN)
    }
  }

  /**
   * The stream a record goes to: the one it names, else the producer's default.
   * @throws InvalidArgumentError for a bad stream name or ARN, or none at all.
   */
  targetOf(record: UserRecord): StreamTarget {
    const { streamName, streamARN } = record
    if (streamName === undefined && streamARN === undefined) {
      if (this.#default === undefined) {
        throw new InvalidArgumentError('streamName', 'is required: the producer was created without a default stream')
      }
      return this.#default
    }
    if (streamARN !== undefined && (typeof streamARN !== 'string' || streamARN.length === 0)) {
      throw new InvalidArgumentError('streamARN', 'must be a non-empty string', streamARN)
    }
    if (streamName !== undefined && (typeof streamName !== 'string' || streamName.length === 0)) {
      throw new InvalidArgumentError('streamName', 'must be a non-empty string', streamName)
    }
    return this.#target(streamARN === undefined ? streamName : undefined, streamARN)
  }

  /** Stops the refresh timer and every listing in flight. */
  close(): void {
    clearInterval(this.#refreshTimer)
    for (const target of this.#targets.values()) target.close()
  }

  #target(streamName: string | undefined, streamARN: string | undefined): StreamTarget {
    const key = streamARN ?? `name:${streamName}`
    let target = this.#targets.get(key)
    if (target === undefined) {
      target = new StreamTarget({ streamName, streamARN }, this.#kinesis, this.#logger, this.#onShardMap)
      this.#targets.set(key, target)
      void target.refresh()
    }
    return target
  }
}

import {
  type KinesisClient,
  type StartingPosition as SdkStartingPosition,
  SubscribeToShardCommand,
  type SubscribeToShardEvent,
  type SubscribeToShardEventStream,
} from '@aws-sdk/client-kinesis'
import { AbortedError } from '@kinesis-ts/shared'
import type { SubscriptionClient } from './subscription-client.js'

export type SubscriptionRead =
  | { readonly kind: 'event'; readonly event: SubscribeToShardEvent }
  /** The service ended the subscription (about every 5 minutes): subscribe again from the continuation. */
  | { readonly kind: 'ended' }
  /** No event within the stall timeout. */
  | { readonly kind: 'stalled' }

type Step = IteratorResult<SubscribeToShardEventStream>

const ignore = (): void => {}

/** An error member of the event stream (ResourceInUseException, InternalFailureException, ...) as an error. */
function streamError(member: SubscribeToShardEventStream): Error {
  const [name, body] = Object.entries(member)[0] ?? ['UnknownError', undefined]
  const error = new Error(String((body as { message?: unknown } | undefined)?.message ?? name))
  error.name = name
  return error
}

/**
 * Resolves with the promise's value, with 'timeout' after `ms`, or rejects with AbortedError when
 * `signal` aborts; its timer and listener are gone whichever wins.
 */
export function within<T>(promise: Promise<T>, ms: number, signal: AbortSignal): Promise<T | 'timeout'> {
  if (signal.aborted) return Promise.reject(new AbortedError(signal.reason))
  return new Promise<T | 'timeout'>((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
    }
    const onAbort = (): void => {
      done()
      reject(new AbortedError(signal.reason))
    }
    const timer = setTimeout(() => {
      done()
      resolve('timeout')
    }, ms)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        done()
        resolve(value)
      },
      (error: unknown) => {
        done()
        reject(error)
      },
    )
  })
}

/**
 * One SubscribeToShard call, read one event per `read()`: the event stream is pulled, never pushed,
 * so a slow processor leaves events in the transport's bounded window (HTTP/2 flow control or TCP)
 * instead of in memory here. `close()` aborts the request, which frees its HTTP/2 session (the
 * SDK gives each event stream one of its own), and destroys the client when it is the subscription's
 * own, which frees its socket or session at once.
 */
export class Subscription {
  readonly #client: KinesisClient
  readonly #owned: boolean
  readonly #abort = new AbortController()
  #iterator: AsyncIterator<SubscribeToShardEventStream> | undefined
  /** A read the caller stopped waiting for (its signal aborted); the next read picks it up. */
  #pending: Promise<Step> | undefined
  #closed = false

  constructor({ client, owned }: SubscriptionClient) {
    this.#client = client
    this.#owned = owned
  }

  /** Sends SubscribeToShard; 'timeout' when the service does not answer within `ms`. */
  async open(
    input: { consumerARN: string; shardId: string; position: SdkStartingPosition },
    ms: number,
    signal: AbortSignal,
  ): Promise<'open' | 'timeout'> {
    const command = new SubscribeToShardCommand({
      ConsumerARN: input.consumerARN,
      ShardId: input.shardId,
      StartingPosition: input.position,
    })
    const sent = this.#client.send(command, { abortSignal: this.#abort.signal })
    sent.catch(ignore)
    const output = await within(sent, ms, signal)
    if (output === 'timeout') return 'timeout'
    if (output.EventStream === undefined) throw new Error('SubscribeToShard returned no event stream')
    this.#iterator = output.EventStream[Symbol.asyncIterator]()
    return 'open'
  }

  async read(stallTimeoutMs: number, signal: AbortSignal): Promise<SubscriptionRead> {
    const iterator = this.#iterator
    if (iterator === undefined || this.#closed) return { kind: 'ended' }
    if (this.#pending === undefined) {
      this.#pending = iterator.next()
      this.#pending.catch(ignore)
    }
    const step = await within(this.#pending, stallTimeoutMs, signal)
    if (step === 'timeout') return { kind: 'stalled' }
    this.#pending = undefined
    if (step.done === true) return { kind: 'ended' }
    const event = step.value.SubscribeToShardEvent
    if (event === undefined) throw streamError(step.value)
    return { kind: 'event', event }
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#abort.abort()
    if (this.#owned) this.#client.destroy()
  }
}

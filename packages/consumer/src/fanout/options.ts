import type { KinesisClient } from '@aws-sdk/client-kinesis'
import { ConfigurationError, type Logger, type MetricsSink, noopMetrics, silentLogger } from '@kinesis-ts/shared'
import { type HttpVersion, type SubscriptionClient, subscriptionClientFor } from './subscription-client.js'

/** How to build the fan-out retrieval of one worker. */
export interface FanOutSourceOptions {
  /**
   * Control-plane client (DescribeStreamSummary, Register/DescribeStreamConsumer, ListShards), and
   * what subscriptions reach the service as: used as it is when it speaks HTTP/2, or else each
   * subscription gets a client derived from its configuration (see subscriptionClientFor).
   */
  readonly kinesis: KinesisClient
  readonly streamName: string
  /** When given, every call names the stream by it (a stream of another account). */
  readonly streamARN?: string | undefined
  /** The consumer name defaults to it, as in the Java KCL. */
  readonly applicationName: string
  readonly consumerName?: string | undefined
  /** Use this registered consumer instead of registering one. */
  readonly consumerARN?: string | undefined
  /** '2' (default, what AWS requires for SubscribeToShard) or '1.1' for endpoints that need it. */
  readonly httpVersion?: '1.1' | '2' | undefined
  /** Overrides how a subscription's client is made (it is destroyed when the subscription ends). */
  readonly createSubscriptionClient?: ((httpVersion: HttpVersion) => KinesisClient) | undefined
  /** An open subscription with no event for this long is torn down and replaced (half-open sockets). */
  readonly stallTimeoutMs?: number | undefined
  /**
   * After this long caught up (empty events) on a subscription, ListShards checks whether the shard
   * was closed; for services that never end a closed shard's subscription (kinesis-local). 0 disables.
   */
  readonly closedShardCheckIntervalMs?: number | undefined
  /** Kinesis allows one SubscribeToShard per second per shard and consumer. */
  readonly minSubscribeIntervalMs?: number | undefined
  readonly backoffBaseMs?: number | undefined
  readonly backoffMaxMs?: number | undefined
  /** Bound on waiting for a registered consumer to become ACTIVE. */
  readonly registrationTimeoutMs?: number | undefined
  readonly logger?: Logger | undefined
  readonly metrics?: MetricsSink | undefined
}

export interface ResolvedFanOutSourceOptions {
  readonly kinesis: KinesisClient
  readonly streamName: string
  readonly streamARN: string | undefined
  readonly consumerName: string
  readonly consumerARN: string | undefined
  readonly httpVersion: HttpVersion
  /** A client for the next subscription. */
  readonly subscriptionClient: () => SubscriptionClient
  readonly stallTimeoutMs: number
  readonly minSubscribeIntervalMs: number
  readonly closedShardCheckIntervalMs: number
  readonly backoffBaseMs: number
  readonly backoffMaxMs: number
  readonly registrationTimeoutMs: number
  readonly logger: Logger
  readonly metrics: MetricsSink
}

export const FAN_OUT_DEFAULTS = {
  httpVersion: '2',
  stallTimeoutMs: 60_000,
  minSubscribeIntervalMs: 1_000,
  closedShardCheckIntervalMs: 60_000,
  backoffBaseMs: 200,
  backoffMaxMs: 10_000,
  registrationTimeoutMs: 120_000,
} as const

function duration(option: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback
  if (!Number.isInteger(value) || value < min || value > 86_400_000) {
    throw new ConfigurationError(option, `an integer number of ms in [${min}, 86400000]`, value)
  }
  return value
}

function nameOf(option: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value.length === 0 || value.length > 2048) {
    throw new ConfigurationError(option, 'a non-empty string of at most 2048 characters', value)
  }
  return value
}

function required(option: string, value: string | undefined): string {
  if (value === undefined) throw new ConfigurationError(option, 'a non-empty string', value)
  return value
}

function subscriptionClients(
  kinesis: KinesisClient,
  httpVersion: HttpVersion,
  create: FanOutSourceOptions['createSubscriptionClient'],
): () => SubscriptionClient {
  if (create === undefined) return () => subscriptionClientFor(kinesis, httpVersion)
  if (typeof create !== 'function') {
    throw new ConfigurationError('createSubscriptionClient', 'a function returning a KinesisClient', create)
  }
  return () => ({ client: create(httpVersion), owned: true })
}

export function resolveFanOutSourceOptions(options: FanOutSourceOptions): ResolvedFanOutSourceOptions {
  if (typeof options.kinesis?.send !== 'function') {
    throw new ConfigurationError('kinesis', 'a KinesisClient', options.kinesis)
  }
  const httpVersion = options.httpVersion ?? FAN_OUT_DEFAULTS.httpVersion
  if (httpVersion !== '1.1' && httpVersion !== '2') {
    throw new ConfigurationError('retrieval.httpVersion', "'1.1' or '2'", httpVersion)
  }
  const backoffBaseMs = duration('backoffBaseMs', options.backoffBaseMs, FAN_OUT_DEFAULTS.backoffBaseMs, 1)
  const backoffMaxMs = duration('backoffMaxMs', options.backoffMaxMs, FAN_OUT_DEFAULTS.backoffMaxMs, 1)
  if (backoffMaxMs < backoffBaseMs) {
    throw new ConfigurationError('backoffMaxMs', `at least backoffBaseMs (${backoffBaseMs})`, backoffMaxMs)
  }
  return {
    kinesis: options.kinesis,
    streamName: required('streamName', nameOf('streamName', options.streamName)),
    streamARN: nameOf('streamARN', options.streamARN),
    consumerName: required(
      'applicationName',
      nameOf('retrieval.consumerName', options.consumerName) ?? nameOf('applicationName', options.applicationName),
    ),
    consumerARN: nameOf('retrieval.consumerARN', options.consumerARN),
    httpVersion,
    subscriptionClient: subscriptionClients(options.kinesis, httpVersion, options.createSubscriptionClient),
    stallTimeoutMs: duration('retrieval.stallTimeoutMs', options.stallTimeoutMs, FAN_OUT_DEFAULTS.stallTimeoutMs, 10),
    minSubscribeIntervalMs: duration(
      'minSubscribeIntervalMs',
      options.minSubscribeIntervalMs,
      FAN_OUT_DEFAULTS.minSubscribeIntervalMs,
      0,
    ),
    closedShardCheckIntervalMs: duration(
      'retrieval.closedShardCheckIntervalMs',
      options.closedShardCheckIntervalMs,
      FAN_OUT_DEFAULTS.closedShardCheckIntervalMs,
      0,
    ),
    backoffBaseMs,
    backoffMaxMs,
    registrationTimeoutMs: duration(
      'registrationTimeoutMs',
      options.registrationTimeoutMs,
      FAN_OUT_DEFAULTS.registrationTimeoutMs,
      1,
    ),
    logger: options.logger ?? silentLogger,
    metrics: options.metrics ?? noopMetrics,
  }
}

import type { KinesisClient } from '@aws-sdk/client-kinesis'
import {
  ConfigurationError,
  type Logger,
  type MetricsSink,
  durationOption,
  noopMetrics,
  notBelow,
  oneOf,
  requiredStringOption,
  silentLogger,
  stringOption,
} from '@kinesis-ts/shared'
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

/** Ceiling of every fan-out duration: a day. */
const MAX_MS = 86_400_000

/** Names and ARNs, as long as Kinesis allows an ARN. */
const NAME = { maxLength: 2048 }

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
  const httpVersion = oneOf('retrieval.httpVersion', options.httpVersion, ['1.1', '2'], FAN_OUT_DEFAULTS.httpVersion)
  const backoffBaseMs = durationOption(
    'backoffBaseMs',
    options.backoffBaseMs,
    FAN_OUT_DEFAULTS.backoffBaseMs,
    1,
    MAX_MS,
  )
  const backoffMaxMs = notBelow(
    'backoffMaxMs',
    durationOption('backoffMaxMs', options.backoffMaxMs, FAN_OUT_DEFAULTS.backoffMaxMs, 1, MAX_MS),
    'backoffBaseMs',
    backoffBaseMs,
  )
  return {
    kinesis: options.kinesis,
    streamName: requiredStringOption('streamName', options.streamName, NAME),
    streamARN: stringOption('streamARN', options.streamARN, NAME),
    consumerName:
      stringOption('retrieval.consumerName', options.consumerName, NAME) ??
      requiredStringOption('applicationName', options.applicationName, NAME),
    consumerARN: stringOption('retrieval.consumerARN', options.consumerARN, NAME),
    httpVersion,
    subscriptionClient: subscriptionClients(options.kinesis, httpVersion, options.createSubscriptionClient),
    stallTimeoutMs: durationOption(
      'retrieval.stallTimeoutMs',
      options.stallTimeoutMs,
      FAN_OUT_DEFAULTS.stallTimeoutMs,
      10,
      MAX_MS,
    ),
    minSubscribeIntervalMs: durationOption(
      'minSubscribeIntervalMs',
      options.minSubscribeIntervalMs,
      FAN_OUT_DEFAULTS.minSubscribeIntervalMs,
      0,
      MAX_MS,
    ),
    closedShardCheckIntervalMs: durationOption(
      'retrieval.closedShardCheckIntervalMs',
      options.closedShardCheckIntervalMs,
      FAN_OUT_DEFAULTS.closedShardCheckIntervalMs,
      0,
      MAX_MS,
    ),
    backoffBaseMs,
    backoffMaxMs,
    registrationTimeoutMs: durationOption(
      'registrationTimeoutMs',
      options.registrationTimeoutMs,
      FAN_OUT_DEFAULTS.registrationTimeoutMs,
      1,
      MAX_MS,
    ),
    logger: options.logger ?? silentLogger,
    metrics: options.metrics ?? noopMetrics,
  }
}

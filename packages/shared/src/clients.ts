import { Agent as HttpAgent } from 'node:http'
import { Agent as HttpsAgent } from 'node:https'
import { KinesisClient, type KinesisClientConfig } from '@aws-sdk/client-kinesis'
import { NodeHttp2Handler, NodeHttpHandler } from '@smithy/node-http-handler'

export type AwsCredentials = KinesisClientConfig['credentials']

/** How to reach a service: region, endpoint and credentials, or a client built by the user. */
export interface ClientOptions {
  /** Defaults to the SDK's resolution: AWS_REGION, then the region of the AWS profile. */
  readonly region?: string | undefined
  /** e.g. http://127.0.0.1:4568 for kinesis-local; defaults to the AWS endpoint of the region. */
  readonly endpoint?: string | undefined
  readonly credentials?: AwsCredentials | undefined
  /** Sockets kept open per host (keep-alive pool). */
  readonly maxSockets?: number | undefined
  /** Give up on a request with no response after this many ms (0 = never). */
  readonly requestTimeoutMs?: number | undefined
  readonly connectionTimeoutMs?: number | undefined
  /**
   * Attempts the SDK makes itself. kinesis-ts retries with its own backoff and accounting, so
   * the default is 1 (no hidden SDK retries).
   */
  readonly maxAttempts?: number | undefined
  /**
   * '1.1' (default): a keep-alive HTTP/1.1 socket pool; the SDK's default HTTP/2 handler for
   * Kinesis opens a session per request. '2': HTTP/2, which SubscribeToShard needs against AWS.
   */
  readonly httpVersion?: '1.1' | '2' | undefined
}

function requestHandlerFor(options: ClientOptions): NodeHttpHandler | NodeHttp2Handler {
  const requestTimeout = options.requestTimeoutMs ?? 0
  if (options.httpVersion === '2') {
    // One session per handler; a subscription that owns its handler owns its session.
    return new NodeHttp2Handler({ requestTimeout, sessionTimeout: 0, disableConcurrentStreams: false })
  }
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 50, scheduling: 'lifo' as const }
  return new NodeHttpHandler({
    httpAgent: new HttpAgent(agentOptions),
    httpsAgent: new HttpsAgent(agentOptions),
    requestTimeout,
    // Without it, @smithy/node-http-handler 4 only logs a warning at requestTimeout and the call hangs on.
    throwOnRequestTimeout: true,
    connectionTimeout: options.connectionTimeoutMs ?? 6000,
  })
}

/**
 * Without a region given, the SDK's own chain picks it (AWS_REGION, then the profile in
 * ~/.aws/config or AWS_CONFIG_FILE) and a request fails with a clear error when nothing is set;
 * a default of ours would silently send a profile user's calls to another region.
 */
function baseConfig(options: ClientOptions) {
  return {
    ...(options.region === undefined ? {} : { region: options.region }),
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    maxAttempts: options.maxAttempts ?? 1,
    requestHandler: requestHandlerFor(options),
  }
}

/** A KinesisClient on a keep-alive HTTP/1.1 pool (or HTTP/2 when asked). */
export function createKinesisClient(options: ClientOptions = {}, overrides: Partial<KinesisClientConfig> = {}) {
  return new KinesisClient({ ...baseConfig(options), ...overrides })
}

/** A client the caller gave us is theirs to destroy; one we made is ours. */
export interface OwnedClient<T extends { destroy(): void }> {
  readonly client: T
  readonly owned: boolean
}

export function kinesisClientFrom(
  given: KinesisClient | undefined,
  options: ClientOptions,
): OwnedClient<KinesisClient> {
  return given === undefined ? { client: createKinesisClient(options), owned: true } : { client: given, owned: false }
}

// For the DynamoDB factory in ./dynamodb.ts (its own subpath); not part of the root index.
export { baseConfig }

import type { KinesisClient } from '@aws-sdk/client-kinesis'
import { createKinesisClient } from '@kinesis-ts/shared'

export type HttpVersion = '1.1' | '2'

/** The client one subscription sends SubscribeToShard on, and whether the subscription owns it. */
export interface SubscriptionClient {
  readonly client: KinesisClient
  /** An owned client is destroyed when the subscription ends: that frees its connection and nothing else. */
  readonly owned: boolean
}

/** Whether the client's request handler speaks HTTP/2 (the SDK's NodeHttp2Handler, or any handler saying so). */
export function speaksHttp2(client: KinesisClient): boolean {
  return client.config.requestHandler?.metadata?.handlerProtocol?.startsWith('h2') === true
}

/**
 * A client that reaches the service exactly as `given` does (its credential provider and that
 * provider's cache, region, endpoint, endpoint rules, auth schemes, user agent, logger) on a request
 * handler of its own, so destroying it frees one connection and leaves `given` and its credentials
 * alone. The SDK does not retry (maxAttempts 1): the fan-out source backs off and resubscribes itself.
 */
export function deriveSubscriptionClient(given: KinesisClient, httpVersion: HttpVersion): KinesisClient {
  const config = given.config
  return createKinesisClient(
    { httpVersion, maxAttempts: 1 },
    {
      region: config.region,
      credentials: config.credentials,
      ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }),
      endpointProvider: config.endpointProvider,
      useFipsEndpoint: config.useFipsEndpoint,
      useDualstackEndpoint: config.useDualstackEndpoint,
      accountIdEndpointMode: config.accountIdEndpointMode,
      httpAuthSchemes: config.httpAuthSchemes,
      httpAuthSchemeProvider: config.httpAuthSchemeProvider,
      customUserAgent: config.customUserAgent,
      userAgentAppId: config.userAgentAppId,
      logger: config.logger,
    },
  )
}

/**
 * The client for one subscription of a consumer whose Kinesis client is `given`. A client already on
 * HTTP/2 is used as it is (its middleware too): the SDK gives each event stream a session of its own,
 * which aborting the subscription closes, and it is never destroyed here. Otherwise a client derived
 * from it, on its own connection: an HTTP/1.1 pool would otherwise hold one of its sockets per shard.
 */
export function subscriptionClientFor(given: KinesisClient, httpVersion: HttpVersion): SubscriptionClient {
  if (httpVersion === '2' && speaksHttp2(given)) return { client: given, owned: false }
  return { client: deriveSubscriptionClient(given, httpVersion), owned: true }
}

import { type ClientOptions, createKinesisClient } from '@kinesis-ts/shared'
import { createDynamoDBClient } from '@kinesis-ts/shared/dynamodb'
import { localCredentials, startLocalDynamoDB, startLocalKinesis } from '@kinesis-ts/shared/testing'

export interface Backends {
  readonly kinesisEndpoint: string
  readonly dynamodbEndpoint: string
  /** True for each endpoint that came from KINESIS_ENDPOINT / DYNAMODB_ENDPOINT rather than a local server. */
  readonly external: { kinesis: boolean; dynamodb: boolean }
  stop(): Promise<void>
}

/**
 * kinesis-local and dynalite on free loopback ports (or the endpoints in KINESIS_ENDPOINT /
 * DYNAMODB_ENDPOINT). If the second fails to start, the first is stopped: nothing is left behind.
 */
export async function startBackends(): Promise<Backends> {
  const [kinesis, dynamodb] = await Promise.allSettled([startLocalKinesis(), startLocalDynamoDB()])
  if (kinesis.status === 'rejected' || dynamodb.status === 'rejected') {
    await Promise.allSettled([kinesis, dynamodb].map((s) => (s.status === 'fulfilled' ? s.value.stop() : undefined)))
    throw kinesis.status === 'rejected' ? kinesis.reason : (dynamodb as PromiseRejectedResult).reason
  }
  let stopped: Promise<void> | undefined
  return {
    kinesisEndpoint: kinesis.value.endpoint,
    dynamodbEndpoint: dynamodb.value.endpoint,
    external: { kinesis: kinesis.value.external, dynamodb: dynamodb.value.external },
    stop() {
      stopped ??= Promise.allSettled([kinesis.value.stop(), dynamodb.value.stop()]).then(() => undefined)
      return stopped
    },
  }
}

const isLoopback = (endpoint: string) => /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:|\/|$)/.test(endpoint)

/**
 * Client options for an endpoint: local servers accept any well-formed key and any region, but the
 * SDK needs one to sign; anything else (AWS, LocalStack on another host) uses the SDK's own region
 * and credential chains (AWS_REGION, the AWS profile).
 */
export function clientOptionsFor(endpoint: string | undefined): ClientOptions {
  if (endpoint === undefined) return {}
  if (!isLoopback(endpoint)) return { endpoint }
  return { region: process.env.AWS_REGION ?? 'us-east-1', endpoint, credentials: localCredentials }
}

export const kinesisClientFor = (endpoint: string | undefined) => createKinesisClient(clientOptionsFor(endpoint))
export const dynamoDBClientFor = (endpoint: string | undefined) => createDynamoDBClient(clientOptionsFor(endpoint))

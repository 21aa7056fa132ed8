/**
 * The DynamoDB client factory, on a subpath of its own (`@kinesis-ts/shared/dynamodb`): only the
 * consumer needs DynamoDB (its lease table), so a producer-only program never loads the SDK's
 * DynamoDB client by importing `@kinesis-ts/shared`.
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb'
import { type ClientOptions, type OwnedClient, baseConfig } from './clients.js'

/** A DynamoDBClient on a keep-alive HTTP/1.1 pool. */
export function createDynamoDBClient(options: ClientOptions = {}, overrides: Partial<DynamoDBClientConfig> = {}) {
  return new DynamoDBClient({ ...baseConfig({ ...options, httpVersion: '1.1' }), ...overrides })
}

export function dynamoDBClientFrom(
  given: DynamoDBClient | undefined,
  options: ClientOptions,
): OwnedClient<DynamoDBClient> {
  return given === undefined ? { client: createDynamoDBClient(options), owned: true } : { client: given, owned: false }
}

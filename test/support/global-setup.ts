import { startLocalDynamoDB, startLocalKinesis } from '@kinesis-ts/shared/testing'
import type { TestProject } from 'vitest/node'

declare module 'vitest' {
  export interface ProvidedContext {
    kinesisEndpoint: string
    dynamodbEndpoint: string
  }
}

/**
 * One kinesis-local and one dynalite for the whole integration run (or the endpoints given in
 * KINESIS_ENDPOINT / DYNAMODB_ENDPOINT); tests isolate themselves with random stream and table names.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [kinesis, dynamodb] = await Promise.all([startLocalKinesis(), startLocalDynamoDB()])
  project.provide('kinesisEndpoint', kinesis.endpoint)
  project.provide('dynamodbEndpoint', dynamodb.endpoint)
  return async () => {
    await Promise.all([kinesis.stop(), dynamodb.stop()])
  }
}

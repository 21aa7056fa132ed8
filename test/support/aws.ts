import { randomUUID } from 'node:crypto'
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  type KinesisClient,
  type Shard,
} from '@aws-sdk/client-kinesis'
import { createKinesisClient, listAllShards as listShards, sleep } from '@kinesis-ts/shared'
import { createDynamoDBClient } from '@kinesis-ts/shared/dynamodb'
import { localCredentials } from '@kinesis-ts/shared/testing'
import { inject } from 'vitest'

/** Endpoints of the run's shared servers (see global-setup.ts). */
export const endpoints = () => ({ kinesis: inject('kinesisEndpoint'), dynamodb: inject('dynamodbEndpoint') })

export const clientOptions = (endpoint: string) => ({
  region: 'us-east-1',
  endpoint,
  credentials: localCredentials,
  maxAttempts: 3,
})

export const kinesisClient = () => createKinesisClient(clientOptions(endpoints().kinesis))
export const dynamoDBClient = () => createDynamoDBClient(clientOptions(endpoints().dynamodb))

/** A name no other test uses: tests share one server. */
export const uniqueName = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`

export async function waitForStreamActive(kinesis: KinesisClient, streamName: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const summary = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: streamName }))
    if (summary.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return
    await sleep(25)
  }
  throw new Error(`stream ${streamName} did not become ACTIVE in ${timeoutMs} ms`)
}

export async function createStream(kinesis: KinesisClient, shardCount: number, prefix = 'stream') {
  const streamName = uniqueName(prefix)
  await kinesis.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: shardCount }))
  await waitForStreamActive(kinesis, streamName)
  return streamName
}

export function listAllShards(kinesis: KinesisClient, streamName: string): Promise<Shard[]> {
  return listShards(kinesis, { streamName })
}

import { PutItemCommand } from '@aws-sdk/client-dynamodb'
import { ListShardsCommand } from '@aws-sdk/client-kinesis'
import { classifyError, createKinesisClient, sleep } from '@kinesis-ts/shared'
import { createDynamoDBClient } from '@kinesis-ts/shared/dynamodb'
import { afterEach, describe, expect, it } from 'vitest'
import { clientOptions, endpoints } from '../support/aws.js'
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.js'

/**
 * The shared clients promise `requestTimeoutMs`: "give up on a request with no response after this
 * many ms". The consumer's bounded DynamoDB and Kinesis calls rest on it, so a call that never gets
 * an answer must fail with a retriable timeout, not hang.
 */
let proxy: FaultProxy | undefined
afterEach(async () => {
  await proxy?.close()
  proxy = undefined
})

/** Settles within `ms`: the call's error, or 'still waiting'. */
async function outcomeWithin(call: Promise<unknown>, ms: number): Promise<unknown> {
  const settled = call.then(
    () => 'answered',
    (error: unknown) => error,
  )
  return Promise.race([settled, sleep(ms).then(() => 'still waiting')])
}

describe('requestTimeoutMs of the shared clients', () => {
  it('a DynamoDB call with no answer fails with a retriable TimeoutError after requestTimeoutMs', async () => {
    proxy = await startFaultProxy(endpoints().dynamodb, { rules: [{ fault: { kind: 'hang' } }] })
    const client = createDynamoDBClient({ ...clientOptions(proxy.endpoint), maxAttempts: 1, requestTimeoutMs: 300 })
    try {
      const started = Date.now()
      const call = client.send(new PutItemCommand({ TableName: 'any', Item: { leaseKey: { S: 'k' } } }))
      const outcome = await outcomeWithin(call, 3_000)
      expect(outcome).toBeInstanceOf(Error)
      expect((outcome as Error).name).toBe('TimeoutError')
      expect(classifyError(outcome).retriable).toBe(true)
      expect(Date.now() - started).toBeLessThan(1_500)
    } finally {
      client.destroy()
    }
  })

  it('a Kinesis call with no answer fails with a retriable TimeoutError after requestTimeoutMs', async () => {
    proxy = await startFaultProxy(endpoints().kinesis, { rules: [{ fault: { kind: 'hang' } }] })
    const client = createKinesisClient({ ...clientOptions(proxy.endpoint), maxAttempts: 1, requestTimeoutMs: 300 })
    try {
      const started = Date.now()
      const outcome = await outcomeWithin(client.send(new ListShardsCommand({ StreamName: 'any' })), 3_000)
      expect(outcome).toBeInstanceOf(Error)
      expect((outcome as Error).name).toBe('TimeoutError')
      expect(classifyError(outcome).retriable).toBe(true)
      expect(Date.now() - started).toBeLessThan(1_500)
    } finally {
      client.destroy()
    }
  })
})

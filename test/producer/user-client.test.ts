import { createHash } from 'node:crypto'
import type { PutRecordsCommandInput, PutRecordsCommandOutput } from '@aws-sdk/client-kinesis'
import { afterAll, describe, expect, it } from 'vitest'
import { KinesisProducer } from '../../packages/producer/src/index.js'
import { createStream, kinesisClient } from '../support/aws.js'
import { deaggregate, readStream } from './support/read-back.js'

const kinesis = kinesisClient()
afterAll(() => kinesis.destroy())

describe('KinesisProducer on a client the user gave, with middleware of its own', () => {
  it("runs the user's middleware on every PutRecords, which sees the records, the body sent and the results", async () => {
    const streamName = await createStream(kinesis, 2, 'user-client')
    const userClient = kinesisClient()
    const calls = {
      input: 0,
      inputRecords: 0,
      bodies: 0,
      bodyRecords: 0,
      outputRecords: 0,
      attempts: 0,
      signedAttempts: 0,
    }
    userClient.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'PutRecordsCommand') return next(args)
        calls.input++
        calls.inputRecords += (args.input as PutRecordsCommandInput).Records?.length ?? 0
        const result = await next(args)
        calls.outputRecords += (result.output as PutRecordsCommandOutput).Records?.length ?? 0
        return result
      },
      { step: 'initialize', name: 'userCountsPutRecords' },
    )
    userClient.middlewareStack.add(
      (next, context) => (args) => {
        if (context.commandName === 'PutRecordsCommand') {
          const request = args.request as { body: Uint8Array; headers: Record<string, string> }
          calls.bodies++
          calls.bodyRecords += JSON.parse(Buffer.from(request.body).toString('utf8')).Records.length
        }
        return next(args)
      },
      { step: 'build', priority: 'low', name: 'userReadsBody' },
    )
    // Runs after signing (once per attempt): the signature covers the body that goes out.
    userClient.middlewareStack.addRelativeTo(
      ((next: (args: { request: unknown }) => unknown) => (args: { request: unknown }) => {
        const request = args.request as { body?: Uint8Array; headers: Record<string, string> }
        if (request.headers['x-amz-target']?.endsWith('.PutRecords') && request.body !== undefined) {
          calls.attempts++
          const sha = createHash('sha256').update(request.body).digest('hex')
          if (request.headers['x-amz-content-sha256'] === sha) calls.signedAttempts++
        }
        return next(args)
      }) as unknown as Parameters<typeof userClient.middlewareStack.addRelativeTo>[0],
      { relation: 'after', toMiddleware: 'httpSigningMiddleware', name: 'userChecksSignedBody' },
    )

    const producer = new KinesisProducer({ streamName, kinesisClient: userClient, recordMaxBufferedTime: 20 })
    const total = 5_000
    const results = await Promise.all(
      Array.from({ length: total }, (_, i) =>
        producer.addUserRecord({ partitionKey: `key-${i % 300}`, data: Buffer.from(`user-client-${i}`) }),
      ),
    )
    await producer.close()
    userClient.destroy()

    expect(results.every((r) => r.successful)).toBe(true)
    const users = deaggregate(await readStream(kinesis, streamName))
    expect(new Set(users.map((u) => u.data.toString())).size).toBe(total)
    expect(users).toHaveLength(total)
    expect(calls.input).toBeGreaterThan(0)
    expect(calls.bodies).toBe(calls.input)
    expect(calls.bodyRecords).toBe(calls.inputRecords)
    expect(calls.outputRecords).toBe(calls.inputRecords)
    expect(calls.attempts).toBeGreaterThanOrEqual(calls.input)
    expect(calls.signedAttempts).toBe(calls.attempts)
  })
})

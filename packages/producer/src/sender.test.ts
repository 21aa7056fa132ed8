import type { KinesisClient } from '@aws-sdk/client-kinesis'
import { AwsCallError, KinesisTsError, classifyError } from '@kinesis-ts/shared'
import { describe, expect, it } from 'vitest'
import type { KinesisRecord } from './pending.js'
import { putRecords } from './sender.js'
import type { StreamTarget } from './stream-target.js'

/** A Kinesis client whose calls never answer: they end only when their abort signal fires. */
const silentKinesis = {
  send: (_command: unknown, options: { abortSignal: AbortSignal }) =>
    new Promise((_resolve, reject) => {
      options.abortSignal.addEventListener('abort', () => reject(options.abortSignal.reason), { once: true })
    }),
} as unknown as KinesisClient

const target = { streamName: 'orders', streamARN: undefined } as unknown as StreamTarget
const record = { data: new Uint8Array([1]), partitionKey: 'k', explicitHashKey: undefined } as unknown as KinesisRecord

describe('putRecords', () => {
  it('ends a call with no response after the timeout as a retriable AwsCallError coded RequestTimeout', async () => {
    const outcome = await putRecords(silentKinesis, target, [record], 20, new AbortController().signal)

    expect(outcome.ok).toBe(false)
    const error = (outcome as { error: unknown }).error
    expect(error).toBeInstanceOf(AwsCallError)
    expect(error).toBeInstanceOf(KinesisTsError)
    expect(error).toMatchObject({ code: 'ERR_AWS', awsCode: 'RequestTimeout', retriable: true, throttled: false })
    expect((error as Error).message).toBe('PutRecords failed: RequestTimeout: no response within 20 ms')
    // The producer records the attempt under this classification (the KPL's 'RequestTimeout', retried).
    expect(classifyError(error)).toEqual({ code: 'RequestTimeout', retriable: true, throttled: false })
  })
})

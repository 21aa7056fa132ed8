import type { KinesisClient } from '@aws-sdk/client-kinesis'
import { AwsCallError, KinesisTsError, classifyError } from '@kinesis-ts/shared'
import { describe, expect, it } from 'vitest'
import type { KinesisRecord } from './pending.js'
import { putRecords } from './sender.js'
import type { StreamTarget } from './stream-target.js'
import { recordingKinesis } from './test-support/recording-kinesis.js'

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

  const records = [
    { data: new Uint8Array([1, 2]), partitionKey: 'a', explicitHashKey: undefined },
    { data: new Uint8Array([3]), partitionKey: 'b', explicitHashKey: '7' },
    { data: new Uint8Array([4]), partitionKey: 'c', explicitHashKey: undefined },
  ] as unknown as KinesisRecord[]

  it('sends the records through the client and answers one outcome per record, in order', async () => {
    const { kinesis, requests } = recordingKinesis(() => ({
      statusCode: 200,
      body: JSON.stringify({
        FailedRecordCount: 1,
        Records: [
          // kinesis-mock writes absent members as null: success all the same.
          { SequenceNumber: '1', ShardId: 'shardId-000000000001', ErrorCode: null, ErrorMessage: null },
          { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded' },
          { SequenceNumber: '3', ShardId: 'shardId-000000000002' },
        ],
      }),
    }))
    const outcome = await putRecords(kinesis, target, records, 5_000, new AbortController().signal)

    expect(outcome).toEqual({
      ok: true,
      entries: [
        { shardId: 'shardId-000000000001', sequenceNumber: '1', errorCode: undefined, errorMessage: undefined },
        {
          shardId: undefined,
          sequenceNumber: undefined,
          errorCode: 'ProvisionedThroughputExceededException',
          errorMessage: 'Rate exceeded',
        },
        { shardId: 'shardId-000000000002', sequenceNumber: '3', errorCode: undefined, errorMessage: undefined },
      ],
    })
    expect(JSON.parse(requests[0]!.body.toString())).toEqual({
      StreamName: 'orders',
      Records: [
        { Data: 'AQI=', PartitionKey: 'a' },
        { Data: 'Aw==', PartitionKey: 'b', ExplicitHashKey: '7' },
        { Data: 'BA==', PartitionKey: 'c' },
      ],
    })
  })

  it('counts records the response has no entry for as InternalFailure', async () => {
    const { kinesis } = recordingKinesis(() => ({
      statusCode: 200,
      body: JSON.stringify({ FailedRecordCount: 0, Records: [{ SequenceNumber: '1', ShardId: 's' }] }),
    }))
    const outcome = await putRecords(kinesis, target, records, 5_000, new AbortController().signal)
    expect(outcome.ok && outcome.entries.map((e) => e.errorCode)).toEqual([
      undefined,
      'InternalFailure',
      'InternalFailure',
    ])
  })

  it('answers a garbled 2xx body as a failed call, retriable, coded InternalFailure', async () => {
    const { kinesis } = recordingKinesis(() => ({ statusCode: 200, body: '{"FailedRecordCount":0,"Rec' }))
    const outcome = await putRecords(kinesis, target, records, 5_000, new AbortController().signal)
    expect(outcome.ok).toBe(false)
    expect(classifyError((outcome as { error: unknown }).error)).toEqual({
      code: 'InternalFailure',
      retriable: true,
      throttled: false,
    })
  })

  it('answers an error response with the SDK exception', async () => {
    const { kinesis } = recordingKinesis(() => ({
      statusCode: 400,
      body: JSON.stringify({ __type: 'ProvisionedThroughputExceededException', message: 'Rate exceeded for stream' }),
    }))
    const outcome = await putRecords(kinesis, target, records, 5_000, new AbortController().signal)
    expect(outcome.ok).toBe(false)
    expect(classifyError((outcome as { error: unknown }).error)).toEqual({
      code: 'ProvisionedThroughputExceededException',
      retriable: true,
      throttled: true,
    })
  })
})

import { type KinesisClient, PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis'
import { AwsCallError } from '@kinesis-ts/shared'
import type { KinesisRecord } from './pending.js'
import type { StreamTarget } from './stream-target.js'

/** What became of one entry of a PutRecords request. */
export interface EntryOutcome {
  readonly shardId?: string | undefined
  readonly sequenceNumber?: string | undefined
  readonly errorCode?: string | undefined
  readonly errorMessage?: string | undefined
}

export type PutOutcome =
  | { readonly ok: true; readonly entries: readonly EntryOutcome[] }
  | { readonly ok: false; readonly error: unknown }

/**
 * What a call that got no response within `requestTimeout` fails with: a retriable AwsCallError with
 * the KPL's attempt error code, RequestTimeout.
 */
export function requestTimeoutError(timeoutMs: number): AwsCallError {
  const cause = new DOMException(`no response within ${timeoutMs} ms`, 'TimeoutError')
  return new AwsCallError('PutRecords', 'RequestTimeout', true, false, cause)
}

/**
 * One PutRecords call for records of one stream. Never throws: a failed call comes back as an
 * outcome. The timeout aborts the request (its socket is dropped), which may leave a duplicate if
 * Kinesis had already written it, exactly as with the KPL.
 */
export async function putRecords(
  kinesis: KinesisClient,
  target: StreamTarget,
  records: readonly KinesisRecord[],
  timeoutMs: number,
  signal: AbortSignal,
): Promise<PutOutcome> {
  const entries = new Array<PutRecordsRequestEntry>(records.length)
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!
    entries[i] =
      record.explicitHashKey === undefined
        ? { Data: record.data, PartitionKey: record.partitionKey }
        : { Data: record.data, PartitionKey: record.partitionKey, ExplicitHashKey: record.explicitHashKey }
  }
  const controller = new AbortController()
  const onAbort = () => controller.abort(signal.reason)
  signal.addEventListener('abort', onAbort, { once: true })
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    controller.abort(requestTimeoutError(timeoutMs))
  }, timeoutMs)
  try {
    const response = await kinesis.send(
      new PutRecordsCommand({
        ...(target.streamARN !== undefined ? { StreamARN: target.streamARN } : { StreamName: target.streamName }),
        Records: entries,
      }),
      { abortSignal: controller.signal },
    )
    const results = response.Records ?? []
    const outcomes = new Array<EntryOutcome>(records.length)
    for (let i = 0; i < records.length; i++) {
      const result = results[i]
      outcomes[i] =
        result === undefined
          ? { errorCode: 'InternalFailure', errorMessage: 'PutRecords returned fewer results than records' }
          : {
              shardId: result.ShardId,
              sequenceNumber: result.SequenceNumber,
              errorCode: result.ErrorCode,
              errorMessage: result.ErrorMessage,
            }
    }
    return { ok: true, entries: outcomes }
  } catch (error) {
    return { ok: false, error: timedOut ? requestTimeoutError(timeoutMs) : error }
  } finally {
    clearTimeout(timer)
    signal.removeEventListener('abort', onAbort)
  }
}

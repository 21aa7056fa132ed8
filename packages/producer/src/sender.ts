import {
  type KinesisClient,
  PutRecordsCommand,
  type PutRecordsRequestEntry,
  type PutRecordsResultEntry,
} from '@aws-sdk/client-kinesis'
import { AwsCallError, CallTimeoutError, withDeadline } from '@kinesis-ts/shared'
import type { KinesisRecord } from './pending.js'
import { usePrebuiltPutRecords } from './prebuilt-put-records.js'
import { encodePutRecordsBody } from './put-records-body.js'
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
 * outcome. The body is built here in one pass (encodePutRecordsBody) and handed to the client's own
 * pipeline (usePrebuiltPutRecords). The timeout aborts the request (its socket is dropped), which
 * may leave a duplicate if Kinesis had already written it, exactly as with the KPL.
 */
export async function putRecords(
  kinesis: KinesisClient,
  target: StreamTarget,
  records: readonly KinesisRecord[],
  timeoutMs: number,
  signal: AbortSignal,
): Promise<PutOutcome> {
  try {
    const command = putRecordsCommand(target, records)
    const response = await withDeadline('PutRecords', timeoutMs, signal, (deadline) =>
      kinesis.send(command, { abortSignal: deadline }),
    )
    return { ok: true, entries: outcomesOf(response.Records ?? [], records.length) }
  } catch (error) {
    return { ok: false, error: error instanceof CallTimeoutError ? requestTimeoutError(timeoutMs) : error }
  }
}

function putRecordsCommand(target: StreamTarget, records: readonly KinesisRecord[]): PutRecordsCommand {
  // The full input, although the body is prebuilt: the user's middleware may read it.
  const entries = new Array<PutRecordsRequestEntry>(records.length)
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!
    entries[i] =
      record.explicitHashKey === undefined
        ? { Data: record.data, PartitionKey: record.partitionKey }
        : { Data: record.data, PartitionKey: record.partitionKey, ExplicitHashKey: record.explicitHashKey }
  }
  const command = new PutRecordsCommand({
    ...(target.streamARN !== undefined ? { StreamARN: target.streamARN } : { StreamName: target.streamName }),
    Records: entries,
  })
  usePrebuiltPutRecords(command, encodePutRecordsBody(target, records))
  return command
}

function outcomesOf(results: readonly PutRecordsResultEntry[], count: number): EntryOutcome[] {
  const outcomes = new Array<EntryOutcome>(count)
  for (let i = 0; i < count; i++) {
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
  return outcomes
}

import type { PutRecordsOutput, PutRecordsResultEntry } from '@aws-sdk/client-kinesis'
import { AwsCallError } from '@kinesis-ts/shared'

/** The members of a successful PutRecords response, as the SDK would have deserialized them. */
export type PutRecordsResult = Omit<PutRecordsOutput, '$metadata'>

const EMPTY = new Uint8Array(0)

/**
 * Reads a response body whole, whatever form the request handler gives it in: bytes, a string, a
 * Node stream or web ReadableStream (both async iterable), or a Blob.
 */
export async function readResponseBody(body: unknown): Promise<Uint8Array> {
  if (body === undefined || body === null) return EMPTY
  if (body instanceof Uint8Array) return body
  if (typeof body === 'string') return Buffer.from(body, 'utf8')
  if (typeof body === 'object' && Symbol.asyncIterator in body) {
    const chunks: Uint8Array[] = []
    for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
      chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk)
    }
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)
  }
  if (body instanceof Blob) return new Uint8Array(await body.arrayBuffer())
  throw new TypeError(`cannot read a response body of type ${Object.prototype.toString.call(body)}`)
}

/**
 * Parses a 2xx PutRecords response body with JSON.parse and keeps what the SDK's deserializer would
 * (`FailedRecordCount`, `EncryptionType`, `Records[].{SequenceNumber, ShardId, ErrorCode,
 * ErrorMessage}`, members that are null left out, as servers like kinesis-mock send them), without
 * the SDK's schema walk over every entry.
 * @throws AwsCallError (InternalFailure, retriable) when the body is not a PutRecords response: it
 * was cut short or garbled on the way, and whether Kinesis wrote the records is unknown.
 */
export function parsePutRecordsResponse(body: Uint8Array): PutRecordsResult {
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'))
  } catch (error) {
    throw malformed(error)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw malformed(undefined)
  const { Records, FailedRecordCount, EncryptionType } = parsed as Record<string, unknown>
  const result: PutRecordsResult = { Records: undefined }
  // A missing Records list is the SDK's business as usual (every entry then counts as unanswered).
  if (Records !== undefined && Records !== null) {
    if (!Array.isArray(Records)) throw malformed(undefined)
    const entries = new Array<PutRecordsResultEntry>(Records.length)
    for (let i = 0; i < Records.length; i++) entries[i] = resultEntry(Records[i])
    result.Records = entries
  }
  if (FailedRecordCount !== undefined && FailedRecordCount !== null) {
    if (typeof FailedRecordCount !== 'number') throw malformed(undefined)
    result.FailedRecordCount = FailedRecordCount
  }
  if (typeof EncryptionType === 'string') result.EncryptionType = EncryptionType as PutRecordsResult['EncryptionType']
  return result
}

function resultEntry(raw: unknown): PutRecordsResultEntry {
  if (typeof raw !== 'object' || raw === null) throw malformed(undefined)
  const { SequenceNumber, ShardId, ErrorCode, ErrorMessage } = raw as Record<string, unknown>
  const entry: PutRecordsResultEntry = {}
  if (typeof SequenceNumber === 'string') entry.SequenceNumber = SequenceNumber
  if (typeof ShardId === 'string') entry.ShardId = ShardId
  if (typeof ErrorCode === 'string') entry.ErrorCode = ErrorCode
  if (typeof ErrorMessage === 'string') entry.ErrorMessage = ErrorMessage
  return entry
}

function malformed(cause: unknown): AwsCallError {
  const error = new Error('the response body is not a PutRecords response', { cause })
  return new AwsCallError('PutRecords', 'InternalFailure', true, false, error)
}

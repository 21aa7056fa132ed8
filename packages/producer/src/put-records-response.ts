import type { PutRecordsOutput } from '@aws-sdk/client-kinesis'
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
 * Parses a 2xx PutRecords response body with JSON.parse, which already builds the SDK's shapes
 * (`Records[].{SequenceNumber, ShardId, ErrorCode, ErrorMessage}`, `FailedRecordCount`): the SDK's
 * schema walk over every entry is skipped.
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
  // A missing Records list is the SDK's business as usual (every entry then counts as unanswered).
  const badRecords = Records !== undefined && !Array.isArray(Records)
  if (badRecords || (FailedRecordCount !== undefined && typeof FailedRecordCount !== 'number')) {
    throw malformed(undefined)
  }
  const result: PutRecordsResult = { Records: Records as PutRecordsResult['Records'] }
  if (FailedRecordCount !== undefined) result.FailedRecordCount = FailedRecordCount
  if (typeof EncryptionType === 'string') result.EncryptionType = EncryptionType as PutRecordsResult['EncryptionType']
  return result
}

function malformed(cause: unknown): AwsCallError {
  const error = new Error('the response body is not a PutRecords response', { cause })
  return new AwsCallError('PutRecords', 'InternalFailure', true, false, error)
}

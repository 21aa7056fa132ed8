import { Readable } from 'node:stream'
import { AwsCallError, classifyError } from '@kinesis-ts/shared'
import { describe, expect, it } from 'vitest'
import { parsePutRecordsResponse, readResponseBody } from './put-records-response.js'

const json = (value: unknown) => Buffer.from(JSON.stringify(value))

describe('parsePutRecordsResponse', () => {
  it('returns the members the SDK would, per entry in order', () => {
    const body = {
      FailedRecordCount: 1,
      Records: [
        { SequenceNumber: '4960', ShardId: 'shardId-000000000001' },
        { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded for shard' },
      ],
      EncryptionType: 'KMS',
    }
    expect(parsePutRecordsResponse(json(body))).toEqual(body)
  })

  it('reads UTF-8 and a body given as a view into a larger buffer', () => {
    const text = JSON.stringify({ FailedRecordCount: 0, Records: [{ SequenceNumber: '1', ShardId: 'é' }] })
    const padded = Buffer.concat([Buffer.from('xx'), Buffer.from(text), Buffer.from('yy')])
    const view = new Uint8Array(padded.buffer, padded.byteOffset + 2, padded.length - 4)
    expect(parsePutRecordsResponse(view).Records).toEqual([{ SequenceNumber: '1', ShardId: 'é' }])
  })

  it('leaves out null members, as the SDK does (kinesis-mock sends None as null)', () => {
    const body = {
      FailedRecordCount: 1,
      EncryptionType: null,
      Records: [
        { SequenceNumber: '1', ShardId: 'shardId-000000000000', ErrorCode: null, ErrorMessage: null },
        { SequenceNumber: null, ShardId: null, ErrorCode: 'InternalFailure', ErrorMessage: 'boom' },
      ],
    }
    const result = parsePutRecordsResponse(json(body))
    expect(result).toStrictEqual({
      FailedRecordCount: 1,
      Records: [
        { SequenceNumber: '1', ShardId: 'shardId-000000000000' },
        { ErrorCode: 'InternalFailure', ErrorMessage: 'boom' },
      ],
    })
  })

  it('keeps only the members the SDK knows', () => {
    const result = parsePutRecordsResponse(
      json({ Records: [{ SequenceNumber: '1', ShardId: 's', Extra: 1 }], Other: 2 }),
    )
    expect(result).toStrictEqual({ Records: [{ SequenceNumber: '1', ShardId: 's' }] })
  })

  it('leaves a missing Records list missing, as the SDK does', () => {
    expect(parsePutRecordsResponse(json({ FailedRecordCount: 0 }))).toEqual({
      FailedRecordCount: 0,
      Records: undefined,
    })
  })

  it.each([
    ['a truncated body', Buffer.from('{"FailedRecordCount":0,"Records":[{"Seq')],
    ['an empty body', Buffer.alloc(0)],
    ['an array', json([])],
    ['Records that are not a list', json({ Records: {} })],
    ['a FailedRecordCount that is not a number', json({ FailedRecordCount: '0', Records: [] })],
    ['an entry that is not an object', json({ Records: [null] })],
  ])('answers %s with a retriable AwsCallError coded InternalFailure', (_label, body) => {
    const error = (() => {
      try {
        parsePutRecordsResponse(body)
      } catch (e) {
        return e
      }
    })()
    expect(error).toBeInstanceOf(AwsCallError)
    expect(error).toMatchObject({ code: 'ERR_AWS', awsCode: 'InternalFailure', retriable: true, throttled: false })
    expect(classifyError(error)).toEqual({ code: 'InternalFailure', retriable: true, throttled: false })
  })
})

describe('readResponseBody', () => {
  const text = '{"Records":[]}'

  it.each([
    ['bytes', () => Buffer.from(text)],
    ['a string', () => text],
    ['a Node stream in chunks', () => Readable.from([Buffer.from(text.slice(0, 3)), Buffer.from(text.slice(3))])],
    ['a web ReadableStream', () => new Blob([text]).stream()],
    ['a Blob', () => new Blob([text])],
  ])('reads %s whole', async (_label, body) => {
    expect(Buffer.from(await readResponseBody(body())).toString('utf8')).toBe(text)
  })

  it('reads no body as empty', async () => {
    expect((await readResponseBody(undefined)).byteLength).toBe(0)
  })

  it('refuses what it cannot read', async () => {
    await expect(readResponseBody(42)).rejects.toThrow(TypeError)
  })
})

import { PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type PutRecordsBodyEntry, type PutRecordsStream, encodePutRecordsBody } from './put-records-body.js'
import { acceptedResponse, recordingKinesis } from './test-support/recording-kinesis.js'

/** The body the SDK itself sends for the same records (through a real client, with its own serializer). */
async function sdkBody(stream: PutRecordsStream, records: readonly PutRecordsBodyEntry[]): Promise<Buffer> {
  const { kinesis, requests } = recordingKinesis(() => acceptedResponse(records.length))
  const Records: PutRecordsRequestEntry[] = records.map((r) => ({
    Data: r.data,
    PartitionKey: r.partitionKey,
    ...(r.explicitHashKey === undefined ? {} : { ExplicitHashKey: r.explicitHashKey }),
  }))
  const target = stream.streamARN !== undefined ? { StreamARN: stream.streamARN } : { StreamName: stream.streamName }
  await kinesis.send(new PutRecordsCommand({ ...target, Records }))
  kinesis.destroy()
  return requests[0]!.body
}

const bytes = (...values: number[]) => new Uint8Array(values)

describe('encodePutRecordsBody', () => {
  it.each([
    [
      'plain keys and every base64 padding',
      [0, 1, 2, 3, 4, 5].map((n) => ({ data: new Uint8Array(n).fill(0xfb), partitionKey: `k${n}` })),
    ],
    [
      'keys that JSON must escape, non-ASCII keys and a lone surrogate',
      ['q"uote', 'back\\slash', 'tab\tnew\nline\u0001\u001f\u007f', 'clé', '🔑-key', 'lone\ud800', '\udc00'].map(
        (partitionKey, i) => ({
          data: bytes(i),
          partitionKey,
        }),
      ),
    ],
    [
      'explicit hash keys beside plain and escaped keys',
      [
        { data: bytes(1, 2, 3), partitionKey: 'a', explicitHashKey: '0' },
        { data: bytes(4), partitionKey: 'é"', explicitHashKey: '340282366920938463463374607431768211455' },
        { data: bytes(), partitionKey: 'b' },
        { data: bytes(5), partitionKey: 'c', explicitHashKey: 'not "decimal" é' },
      ],
    ],
    [
      'a Uint8Array view into a larger buffer',
      [{ data: new Uint8Array(new Uint8Array([9, 8, 7, 6, 5]).buffer, 1, 3), partitionKey: 'view' }],
    ],
    [
      // Encoded in 48 KiB slices: lengths around and past a slice, every padding, and a view.
      'records larger than one base64 slice',
      [49_151, 49_152, 49_153, 200_001, 1024 * 1024].map((n, i) => ({
        data: Uint8Array.from({ length: n }, (_, j) => (j * 31 + i) & 0xff),
        partitionKey: `big${n}`,
      })),
    ],
    ['no records', []],
  ] satisfies [string, PutRecordsBodyEntry[]][])('writes what the SDK writes, as JSON: %s', async (_label, records) => {
    const ours = encodePutRecordsBody({ streamName: 'orders' }, records)
    expect(JSON.parse(ours.toString('utf8'))).toEqual(
      JSON.parse((await sdkBody({ streamName: 'orders' }, records)).toString('utf8')),
    )
  })

  it('names the stream by ARN when it has one, as the SDK input does', async () => {
    const stream = { streamName: undefined, streamARN: 'arn:aws:kinesis:us-east-1:123456789012:stream/orders' }
    const records = [{ data: bytes(1), partitionKey: 'k' }]
    const ours = JSON.parse(encodePutRecordsBody(stream, records).toString('utf8'))
    expect(ours).toEqual(JSON.parse((await sdkBody(stream, records)).toString('utf8')))
    expect(ours.StreamARN).toBe(stream.streamARN)
    expect(ours).not.toHaveProperty('StreamName')
  })

  it("carries every record's bytes and keys, in order, for any records", () => {
    const entry = fc.record({
      data: fc.uint8Array({ maxLength: 300 }),
      partitionKey: fc.oneof(
        fc.string({ minLength: 1, maxLength: 256 }),
        fc.fullUnicodeString({ minLength: 1 }),
        fc.string16bits({ minLength: 1 }),
      ),
      explicitHashKey: fc.option(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }).map(String), { nil: undefined }),
    })
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 20 }), (records) => {
        const parsed = JSON.parse(encodePutRecordsBody({ streamName: 's' }, records).toString('utf8'))
        expect(parsed.StreamName).toBe('s')
        expect(parsed.Records).toHaveLength(records.length)
        records.forEach((record, i) => {
          const sent = parsed.Records[i]
          expect(Buffer.from(sent.Data, 'base64')).toEqual(Buffer.from(record.data))
          expect(sent.PartitionKey).toBe(record.partitionKey)
          expect(sent.ExplicitHashKey).toBe(record.explicitHashKey)
        })
      }),
      { numRuns: 300 },
    )
  })

  it('writes what the SDK writes for random records', async () => {
    const entry = fc.record({
      data: fc.uint8Array({ maxLength: 100 }),
      partitionKey: fc.oneof(
        fc.string({ minLength: 1, maxLength: 40 }),
        fc.string16bits({ minLength: 1, maxLength: 40 }),
      ),
      explicitHashKey: fc.option(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }).map(String), { nil: undefined }),
    })
    await fc.assert(
      fc.asyncProperty(fc.array(entry, { minLength: 1, maxLength: 10 }), async (records) => {
        const ours = JSON.parse(encodePutRecordsBody({ streamName: 'orders' }, records).toString('utf8'))
        expect(ours).toEqual(JSON.parse((await sdkBody({ streamName: 'orders' }, records)).toString('utf8')))
      }),
      { numRuns: 50 },
    )
  })
})

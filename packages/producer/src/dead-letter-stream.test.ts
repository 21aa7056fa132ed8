import { ConfigurationError, InvalidArgumentError } from '@kinesis-ts/shared'
import { describe, expect, it } from 'vitest'
import {
  type DeadLetterSource,
  deadLetterToStream,
  originalData,
  parseDeadLetterEnvelope,
} from './dead-letter-stream.js'
import type { UserRecord } from './types.js'

/** A producer that keeps what it was given; `fail` makes the next calls reject as a failed put would. */
function recordingProducer() {
  const added: UserRecord[] = []
  const producer = {
    fail: undefined as Error | undefined,
    addUserRecord: async (record: UserRecord) => {
      if (producer.fail !== undefined) throw producer.fail
      added.push(record)
      return { successful: true, shardId: 'shardId-0', sequenceNumber: '1', subSequenceNumber: 0, attempts: [] }
    },
  }
  return { producer, added }
}

const poison = (overrides: Partial<DeadLetterSource['record']> = {}, error: unknown = new TypeError('bad order')) =>
  ({
    shardId: 'shardId-000000000003',
    record: {
      partitionKey: 'order-17',
      data: new Uint8Array([0xff, 0x00, 0x7b, 0x7d]),
      sequenceNumber: '49600000000000000000000000000000000000000000000000000017',
      subSequenceNumber: 2,
      approximateArrivalTimestamp: new Date('2024-05-01T10:00:00.000Z'),
      ...overrides,
    },
    error,
    attempts: 9,
  }) satisfies DeadLetterSource

describe('deadLetterToStream', () => {
  it('puts the documented JSON envelope under the original partition key, to the dead-letter stream', async () => {
    const { producer, added } = recordingProducer()
    const deadLetter = deadLetterToStream({ streamName: 'orders-dlq', producer, sourceStreamName: 'orders' })
    await deadLetter(poison())
    expect(added).toHaveLength(1)
    const [put] = added
    expect(put).toMatchObject({ streamName: 'orders-dlq', partitionKey: 'order-17' })
    const envelope = JSON.parse(Buffer.from(put!.data as Uint8Array).toString('utf8'))
    expect(envelope).toEqual({
      kinesisTsDeadLetter: 1,
      partitionKey: 'order-17',
      data: '/wB7fQ==',
      error: { name: 'TypeError', message: 'bad order' },
      streamName: 'orders',
      shardId: 'shardId-000000000003',
      sequenceNumber: '49600000000000000000000000000000000000000000000000000017',
      subSequenceNumber: 2,
      attempts: 9,
      approximateArrivalTimestamp: '2024-05-01T10:00:00.000Z',
      deadLetteredAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    })
    // What redrive reads back: the same key and bytes.
    const parsed = parseDeadLetterEnvelope(put!.data as Uint8Array)!
    expect(parsed.partitionKey).toBe('order-17')
    expect([...originalData(parsed)]).toEqual([0xff, 0x00, 0x7b, 0x7d])
  })

  it('keeps an explicit hash key and an error code; a thrown non-error becomes its string; a long message is cut', async () => {
    const { producer, added } = recordingProducer()
    const deadLetter = deadLetterToStream({ streamName: 'dlq', producer })
    const coded = Object.assign(new Error('x'.repeat(10_000)), { name: 'WorkerProcessingError', code: 'ERR_X' })
    await deadLetter(poison({ explicitHashKey: '42' }, coded))
    await deadLetter(poison({}, 'just a string'))
    const [first, second] = added.map((r) => parseDeadLetterEnvelope(r.data as Uint8Array)!)
    expect(first!.explicitHashKey).toBe('42')
    expect(first!.error.code).toBe('ERR_X')
    expect(first!.error.name).toBe('WorkerProcessingError')
    expect(first!.error.message).toHaveLength(4_097)
    expect(first!.streamName).toBeUndefined()
    expect(second!.error).toEqual({ name: 'Error', message: 'just a string' })
  })

  it("keeps the record's headers in the envelope when it had some (empty headers add nothing)", async () => {
    const { producer, added } = recordingProducer()
    const deadLetter = deadLetterToStream({ streamName: 'dlq', producer })
    await deadLetter(poison({ headers: { traceparent: '00-ab-cd-01', tenant: 't1' } }))
    await deadLetter(poison({ headers: {} }))
    const [tagged, plain] = added.map((r) => parseDeadLetterEnvelope(r.data as Uint8Array)!)
    expect(tagged!.headers).toEqual({ traceparent: '00-ab-cd-01', tenant: 't1' })
    expect(plain).not.toHaveProperty('headers')
    // The envelope itself goes without headers: any reader can read a dead-letter stream.
    expect(added.every((r) => r.headers === undefined)).toBe(true)
    expect(parseDeadLetterEnvelope(Buffer.from(JSON.stringify({ ...tagged, headers: 'x' })))).toBeUndefined()
  })

  it('rejects when the put fails (the consumer calls it again) and refuses an envelope over the record limit', async () => {
    const { producer, added } = recordingProducer()
    const deadLetter = deadLetterToStream({ streamName: 'dlq', producer })
    producer.fail = new Error('ResourceNotFoundException')
    await expect(deadLetter(poison())).rejects.toThrow('ResourceNotFoundException')
    producer.fail = undefined
    // 800 KB of data is about 1.07 MB in base64.
    await expect(deadLetter(poison({ data: new Uint8Array(800_000) }))).rejects.toBeInstanceOf(InvalidArgumentError)
    expect(added).toEqual([])
  })

  it('checks its options', () => {
    const { producer } = recordingProducer()
    expect(() => deadLetterToStream({ streamName: '', producer })).toThrow(ConfigurationError)
    expect(() => deadLetterToStream({ streamName: 'dlq', producer: {} as never })).toThrow(
      expect.objectContaining({ option: 'producer' }),
    )
  })

  it('parseDeadLetterEnvelope says undefined for anything else', () => {
    const bytes = (text: string) => new TextEncoder().encode(text)
    expect(parseDeadLetterEnvelope(new Uint8Array([0xff, 0xfe]))).toBeUndefined()
    expect(parseDeadLetterEnvelope(bytes('{"partitionKey":"k","data":""}'))).toBeUndefined()
    expect(parseDeadLetterEnvelope(bytes('null'))).toBeUndefined()
    expect(parseDeadLetterEnvelope(bytes('plain text'))).toBeUndefined()
  })
})

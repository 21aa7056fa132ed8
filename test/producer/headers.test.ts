import { InvalidArgumentError, decodeAggregated } from '@kinesis-ts/shared'
import { afterAll, describe, expect, it } from 'vitest'
import { KinesisProducer } from '../../packages/producer/src/index.js'
import { Fleet, waitFor } from '../consumer/support/harness.js'
import { clientOptions, createStream, endpoints, kinesisClient, uniqueName } from '../support/aws.js'
import { deaggregateWithAwsKinesisAgg, readStream } from './support/read-back.js'

const kinesis = kinesisClient()
afterAll(() => kinesis.destroy())

/** Record i: every third without headers, the rest with 1..3 headers (multi-byte ones too). */
function headersOf(i: number): Record<string, string> | undefined {
  if (i % 3 === 0) return undefined
  const headers: Record<string, string> = { 'record-id': String(i), 'content-type': 'text/plain' }
  if (i % 3 === 2) headers['clé-🔑'] = `värde-${i}`
  return headers
}

describe('record headers through kinesis-local', () => {
  it('travel as KPL tags in aggregates (a lone record too), read by our consumer; aws-kinesis-agg reads the records intact', async () => {
    const streamName = await createStream(kinesis, 2, 'headers')
    const producer = new KinesisProducer({ streamName, ...clientOptions(endpoints().kinesis) })
    const total = 600
    const results = Array.from({ length: total }, (_, i) =>
      producer.addUserRecord({ partitionKey: `k-${i % 40}`, data: `record-${i}`, headers: headersOf(i) }),
    )
    await Promise.all(results)
    await producer.flush()
    // One record with headers alone in its request: it still goes as an aggregate, so its headers travel.
    const alone = await producer.addUserRecord({ partitionKey: 'alone', data: 'alone', headers: { only: 'me' } })
    await producer.close()
    expect(alone.subSequenceNumber).toBe(0)

    const stored = await readStream(kinesis, streamName)
    const aloneStored = stored.find((r) => r.sequenceNumber === alone.sequenceNumber)!
    expect(aloneStored.partitionKey).toBe('a')
    expect(decodeAggregated(aloneStored.data).map((r) => [r.partitionKey, { ...r.headers }])).toEqual([
      ['alone', { only: 'me' }],
    ])

    const oracle = deaggregateWithAwsKinesisAgg(stored)
    expect(oracle).toHaveLength(total + 1)
    // aws-kinesis-agg hands data back base64-encoded.
    expect(new Set(oracle.map((r) => Buffer.from(r.data.toString(), 'base64').toString()))).toEqual(
      new Set([...Array.from({ length: total }, (_, i) => `record-${i}`), 'alone']),
    )

    const seen = new Map<string, Record<string, string>>()
    const fleet = new Fleet(
      streamName,
      uniqueName('headers-app'),
      {},
      {
        onRecords: (input) => {
          for (const r of input.records) seen.set(Buffer.from(r.data).toString(), { ...r.headers })
        },
      },
    )
    try {
      await fleet.start('w')
      await waitFor('every record', () => seen.size >= total + 1)
    } finally {
      await fleet.close()
    }
    for (let i = 0; i < total; i++) expect(seen.get(`record-${i}`)).toEqual(headersOf(i) ?? {})
    expect(seen.get('alone')).toEqual({ only: 'me' })
  })

  it('are refused with InvalidArgumentError when aggregation is off; records without them still go', async () => {
    const streamName = await createStream(kinesis, 1, 'headers-raw')
    const producer = new KinesisProducer({
      streamName,
      aggregationEnabled: false,
      ...clientOptions(endpoints().kinesis),
    })
    try {
      const refused = producer.addUserRecord({ partitionKey: 'k', data: 'x', headers: { h: 'v' } })
      await expect(refused).rejects.toBeInstanceOf(InvalidArgumentError)
      await expect(refused).rejects.toMatchObject({ field: 'headers', code: 'ERR_INVALID_ARGUMENT' })
      await expect(producer.addUserRecord({ partitionKey: 'k', data: 'x' })).resolves.toMatchObject({
        successful: true,
      })
    } finally {
      await producer.close()
    }
  })
})

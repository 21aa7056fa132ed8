import { encodeAggregated, encodeHeaderTags, hashKeyOf } from '@kinesis-ts/shared'
import { describe, expect, it } from 'vitest'
import type { RawKinesisRecord } from '../seams.js'
import { packRecords, unpackRecords } from '../workers/wire.js'
import { toClientRecords } from './client-records.js'

const raw = (sequenceNumber: string, data: Uint8Array, partitionKey = 'pk'): RawKinesisRecord => ({
  data,
  partitionKey,
  sequenceNumber,
  approximateArrivalTimestamp: new Date(1_000),
})

const keys = ['a', 'b', 'c', 'd', 'e']
const aggregate = encodeAggregated(keys.map((k) => ({ partitionKey: k, data: Buffer.from(k) })))
const full = { start: 0n, end: 2n ** 128n - 1n }

describe('toClientRecords', () => {
  it('splits aggregates with sub-sequence numbers and keeps plain records whole', () => {
    const out = toClientRecords([raw('10', aggregate, 'a'), raw('11', Buffer.from('plain'))], full, undefined)
    expect(out.map((r) => [r.partitionKey, r.sequenceNumber, r.subSequenceNumber, r.aggregated])).toEqual([
      ['a', '10', 0, true],
      ['b', '10', 1, true],
      ['c', '10', 2, true],
      ['d', '10', 3, true],
      ['e', '10', 4, true],
      ['pk', '11', 0, false],
    ])
    expect(out[5]!.approximateArrivalTimestamp).toEqual(new Date(1_000))
  })

  it('skips everything at or below the checkpoint, sub-sequence included', () => {
    const out = toClientRecords([raw('10', aggregate, 'a'), raw('11', Buffer.from('x'))], full, {
      sequenceNumber: '10',
      subSequenceNumber: 2,
    })
    expect(out.map((r) => `${r.sequenceNumber}/${r.subSequenceNumber}`)).toEqual(['10/3', '10/4', '11/0'])
  })

  it('drops aggregated sub-records outside the hash range, never plain records', () => {
    const hashOfC = hashKeyOf('c')
    const out = toClientRecords(
      [raw('10', aggregate), raw('11', Buffer.from('x'), 'zzz')],
      { start: hashOfC, end: hashOfC },
      undefined,
    )
    expect(out.map((r) => r.partitionKey)).toEqual(['c', 'zzz'])
  })

  it('gives each user record its headers (KPL tags), empty for plain records and untagged ones, in worker threads too', () => {
    const tagged = encodeAggregated([
      { partitionKey: 'a', data: Buffer.from('1'), tags: encodeHeaderTags({ traceparent: 'tp', k: 'v' }) },
      { partitionKey: 'b', data: Buffer.from('2') },
    ])
    const out = toClientRecords([raw('10', tagged, 'a'), raw('11', Buffer.from('plain'))], full, undefined)
    const expected = [{ traceparent: 'tp', k: 'v' }, {}, {}]
    expect(out.map((r) => ({ ...r.headers }))).toEqual(expected)
    // Across the thread boundary: the wire form carries them (and a worker gets empty headers, not undefined).
    const { records, data } = packRecords(out)
    expect(records.map((r) => r.headers)).toEqual([{ traceparent: 'tp', k: 'v' }, undefined, undefined])
    const cloned = structuredClone({ records, data })
    expect(unpackRecords(cloned.records, cloned.data).map((r) => ({ ...r.headers }))).toEqual(expected)
  })
})

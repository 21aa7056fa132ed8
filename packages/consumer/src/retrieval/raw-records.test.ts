import { describe, expect, it } from 'vitest'
import { MalformedResponseError } from '../errors.js'
import { childShardsOf, iteratorPosition, rawBatchOf, subscribePosition } from './raw-records.js'

describe('rawBatchOf', () => {
  it('maps every field, and gives fields that identify nothing a neutral value when missing', () => {
    const data = new Uint8Array([1, 2])
    const at = new Date(1_700_000_000_000)
    const batch = rawBatchOf({
      Records: [
        { SequenceNumber: '1', Data: data, PartitionKey: 'k', ApproximateArrivalTimestamp: at },
        { SequenceNumber: '2', Data: undefined },
      ],
      MillisBehindLatest: 42,
    })
    expect(batch).toEqual({
      records: [
        { sequenceNumber: '1', data, partitionKey: 'k', approximateArrivalTimestamp: at },
        { sequenceNumber: '2', data: new Uint8Array(0), partitionKey: '', approximateArrivalTimestamp: new Date(0) },
      ],
      millisBehindLatest: 42,
    })
    expect(rawBatchOf({})).toEqual({ records: [], millisBehindLatest: 0 })
  })

  it('refuses a record without a sequence number rather than make one up', () => {
    expect(() => rawBatchOf({ Records: [{ SequenceNumber: undefined, Data: new Uint8Array(1) }] })).toThrow(
      MalformedResponseError,
    )
  })
})

describe('childShardsOf', () => {
  const range = { StartingHashKey: '0', EndingHashKey: '9' }

  it('maps the children, and says undefined when the service named none', () => {
    expect(childShardsOf([{ ShardId: 'c', ParentShards: undefined, HashKeyRange: range }])).toEqual([
      { shardId: 'c', parentShards: [], hashKeyRange: { startingHashKey: '0', endingHashKey: '9' } },
    ])
    expect(childShardsOf(undefined)).toBeUndefined()
    expect(childShardsOf(null)).toBeUndefined()
    expect(childShardsOf([])).toBeUndefined()
  })

  it.each([
    [{ ShardId: undefined, ParentShards: ['p'], HashKeyRange: range }],
    [{ ShardId: 'c', ParentShards: ['p'], HashKeyRange: undefined }],
    [{ ShardId: 'c', ParentShards: ['p'], HashKeyRange: { StartingHashKey: '0', EndingHashKey: undefined } }],
  ])('refuses a child without an id or a full hash range: %o', (child) => {
    expect(() => childShardsOf([child])).toThrow(MalformedResponseError)
  })
})

describe('starting positions', () => {
  it.each([
    [{ type: 'TRIM_HORIZON' } as const, { Type: 'TRIM_HORIZON' }, { ShardIteratorType: 'TRIM_HORIZON' }],
    [{ type: 'LATEST' } as const, { Type: 'LATEST' }, { ShardIteratorType: 'LATEST' }],
    [
      { type: 'AT_SEQUENCE_NUMBER', sequenceNumber: '5' } as const,
      { Type: 'AT_SEQUENCE_NUMBER', SequenceNumber: '5' },
      { ShardIteratorType: 'AT_SEQUENCE_NUMBER', StartingSequenceNumber: '5' },
    ],
    [
      { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: '6' } as const,
      { Type: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: '6' },
      { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: '6' },
    ],
    [
      { type: 'AT_TIMESTAMP', timestamp: new Date(1_000) } as const,
      { Type: 'AT_TIMESTAMP', Timestamp: new Date(1_000) },
      { ShardIteratorType: 'AT_TIMESTAMP', Timestamp: new Date(1_000) },
    ],
  ])('%o → SubscribeToShard %o, GetShardIterator %o', (position, subscribe, iterator) => {
    expect(subscribePosition(position)).toEqual(subscribe)
    expect(iteratorPosition(position)).toEqual(iterator)
  })
})

import type { KinesisClient } from '@aws-sdk/client-kinesis'
import { AbortedError, InMemoryMetrics, noopMetrics, silentLogger } from '@kinesis-ts/shared'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { ResolvedPollingRetrieval } from '../config.js'
import { METRICS } from '../metrics.js'
import type { StartingPosition } from '../seams.js'
import { PollingRecordSource } from './polling-source.js'

const options: ResolvedPollingRetrieval = {
  mode: 'polling',
  maxRecords: 100,
  idleTimeBetweenReadsInMillis: 1_000,
  maxPendingBatches: 2,
  maxPendingBytes: 1_000_000,
  backoffBaseMillis: 200,
  backoffMaxMillis: 5_000,
}
const shard = { shardId: 'shard-1', streamName: 's', startingHashKey: '0', endingHashKey: '9' }

type Reply = Record<string, unknown> | Error
/** A KinesisClient stub: GetShardIterator inputs are recorded, GetRecords answers from a script. */
function stubClient(script: Reply[]) {
  const iterators: Record<string, unknown>[] = []
  const calls: number[] = []
  const client = {
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      if (command.constructor.name === 'GetShardIteratorCommand') {
        iterators.push(command.input)
        return { ShardIterator: `it-${iterators.length}` }
      }
      calls.push(Date.now())
      const reply = script.shift() ?? { Records: [], NextShardIterator: 'more', MillisBehindLatest: 0 }
      if (reply instanceof Error) throw reply
      return reply
    },
  } as unknown as KinesisClient
  return { client, iterators, calls }
}

const record = (sequenceNumber: string) => ({
  Data: new Uint8Array([1, 2, 3]),
  PartitionKey: 'k',
  SequenceNumber: sequenceNumber,
  ApproximateArrivalTimestamp: new Date(0),
})
const awsError = (name: string) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: 400 } })

/** A source on `client` for the test shard, with `tuned` options over the defaults above. */
function sourceOn(client: KinesisClient, start: StartingPosition, tuned: Partial<ResolvedPollingRetrieval> = {}) {
  return new PollingRecordSource(
    { kinesis: client, options: { ...options, ...tuned }, logger: silentLogger, metrics: noopMetrics },
    shard,
    start,
  )
}

afterEach(() => {
  vi.useRealTimers()
})

describe('PollingRecordSource', () => {
  it('spaces calls by idleTimeBetweenReadsInMillis and passes millisBehindLatest on', async () => {
    vi.useFakeTimers()
    const { client, calls } = stubClient([
      { Records: [record('1')], NextShardIterator: 'a', MillisBehindLatest: 500 },
      { Records: [record('2')], NextShardIterator: 'b', MillisBehindLatest: 0 },
    ])
    const source = sourceOn(client, { type: 'TRIM_HORIZON' })
    const signal = new AbortController().signal
    const first = await source.next(signal)
    expect(first).toMatchObject({ millisBehindLatest: 500, records: [{ sequenceNumber: '1' }] })
    const second = source.next(signal)
    await vi.advanceTimersByTimeAsync(1_000)
    expect((await second).records[0]!.sequenceNumber).toBe('2')
    expect(calls[1]! - calls[0]!).toBeGreaterThanOrEqual(1_000)
    await source.close()
    expect(vi.getTimerCount()).toBe(0)
  })

  it('backs off on throttling, and after an expired iterator resumes AFTER the last record read', async () => {
    vi.useFakeTimers()
    const { client, iterators, calls } = stubClient([
      { Records: [record('7')], NextShardIterator: 'a', MillisBehindLatest: 0 },
      awsError('ProvisionedThroughputExceededException'),
      awsError('ExpiredIteratorException'),
      { Records: [record('8')], NextShardIterator: 'b', MillisBehindLatest: 0 },
    ])
    const source = sourceOn(
      client,
      { type: 'AT_SEQUENCE_NUMBER', sequenceNumber: '5' },
      { idleTimeBetweenReadsInMillis: 0 },
    )
    const signal = new AbortController().signal
    expect((await source.next(signal)).records[0]!.sequenceNumber).toBe('7')
    const next = source.next(signal)
    await vi.advanceTimersByTimeAsync(5_000)
    expect((await next).records[0]!.sequenceNumber).toBe('8')
    // Read ahead goes on after the fourth call (the prefetch), so only the first four are scripted.
    expect(calls.length).toBeGreaterThanOrEqual(4)
    expect(iterators).toEqual([
      expect.objectContaining({ ShardIteratorType: 'AT_SEQUENCE_NUMBER', StartingSequenceNumber: '5' }),
      expect.objectContaining({ ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: '7' }),
    ])
    await source.close()
  })

  it('reports GetRecords.Success for every call, 0 for a failed one, and GetRecords.Throttled per shard', async () => {
    vi.useFakeTimers()
    const { client, calls } = stubClient([
      { Records: [record('7')], NextShardIterator: 'a', MillisBehindLatest: 0 },
      awsError('ProvisionedThroughputExceededException'),
      awsError('InternalFailure'),
      { Records: [record('8')], NextShardIterator: 'b', MillisBehindLatest: 0 },
      { Records: [], NextShardIterator: undefined, ChildShards: [], MillisBehindLatest: 0 },
    ])
    const metrics = new InMemoryMetrics()
    const source = new PollingRecordSource(
      { kinesis: client, options: { ...options, idleTimeBetweenReadsInMillis: 0 }, logger: silentLogger, metrics },
      shard,
      { type: 'TRIM_HORIZON' },
    )
    const signal = new AbortController().signal
    expect((await source.next(signal)).records[0]!.sequenceNumber).toBe('7')
    const next = source.next(signal)
    await vi.advanceTimersByTimeAsync(10_000)
    expect((await next).records[0]!.sequenceNumber).toBe('8')
    expect((await source.next(signal)).shardEnd).toBeDefined()
    await source.close()
    expect(calls).toHaveLength(5)
    const of = (name: string) => metrics.snapshot().filter((m) => m.name === name)
    expect(of(METRICS.getRecordsSuccess)).toMatchObject([{ sampleCount: 5, sum: 3, min: 0, max: 1 }])
    expect(of(METRICS.getRecordsTime)).toMatchObject([{ sampleCount: 5 }])
    expect(of(METRICS.getRecordsThrottled)).toMatchObject([{ sum: 1, dimensions: { ShardId: 'shard-1' } }])
  })

  it('refuses a reply with a record missing its sequence number, then reads it again after the last good one', async () => {
    vi.useFakeTimers()
    const { SequenceNumber: _, ...unnumbered } = record('9')
    const { client, iterators } = stubClient([
      { Records: [record('7')], NextShardIterator: 'a', MillisBehindLatest: 0 },
      { Records: [record('8'), unnumbered], NextShardIterator: 'b', MillisBehindLatest: 0 },
      { Records: [record('8'), record('9')], NextShardIterator: 'c', MillisBehindLatest: 0 },
    ])
    const source = sourceOn(client, { type: 'TRIM_HORIZON' }, { idleTimeBetweenReadsInMillis: 0 })
    const signal = new AbortController().signal
    expect((await source.next(signal)).records.map((r) => r.sequenceNumber)).toEqual(['7'])
    await expect(source.next(signal)).rejects.toMatchObject({ code: 'ERR_AWS', awsCode: 'ERR_MALFORMED_RESPONSE' })
    const again = source.next(signal)
    await vi.advanceTimersByTimeAsync(5_000)
    expect((await again).records.map((r) => r.sequenceNumber)).toEqual(['8', '9'])
    expect(iterators).toEqual([
      expect.objectContaining({ ShardIteratorType: 'TRIM_HORIZON' }),
      expect.objectContaining({ ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: '7' }),
    ])
    await source.close()
  })

  it('reports the shard end with the child shards, then stops reading', async () => {
    const { client, calls } = stubClient([
      {
        Records: [],
        MillisBehindLatest: 0,
        ChildShards: [
          { ShardId: 'c', ParentShards: ['shard-1'], HashKeyRange: { StartingHashKey: '0', EndingHashKey: '9' } },
        ],
      },
    ])
    const source = sourceOn(client, { type: 'LATEST' })
    const batch = await source.next(new AbortController().signal)
    expect(batch.shardEnd).toEqual({
      childShards: [
        { shardId: 'c', parentShards: ['shard-1'], hashKeyRange: { startingHashKey: '0', endingHashKey: '9' } },
      ],
    })
    await source.close()
    expect(calls).toHaveLength(1)
  })

  it('stops reading ahead at maxPendingBatches, and next() rejects promptly on abort', async () => {
    vi.useFakeTimers()
    const { client, calls } = stubClient([])
    const source = sourceOn(client, { type: 'LATEST' }, { idleTimeBetweenReadsInMillis: 10 })
    const controller = new AbortController()
    await source.next(controller.signal)
    await vi.advanceTimersByTimeAsync(1_000)
    // One batch taken, two buffered: the reader waits for room.
    expect(calls).toHaveLength(3)
    await source.close()
    const pending = source.next(controller.signal)
    await source.next(controller.signal)
    controller.abort()
    await expect(source.next(controller.signal)).rejects.toBeInstanceOf(AbortedError)
    await pending
  })
})

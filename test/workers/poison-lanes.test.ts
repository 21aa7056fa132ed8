import { rmSync } from 'node:fs'
import { threadId } from 'node:worker_threads'
import { afterEach, describe, expect, it } from 'vitest'
import type { ResolvedDeadLetterPolicy } from '../../packages/consumer/src/config-types.js'
import { DeadLetterIsolation, type IsolationHooks } from '../../packages/consumer/src/processing/isolation.js'
import type { PoisonRecord } from '../../packages/consumer/src/types.js'
import { type WorkerThreadHost, createWorkerThreadHost, lanesOf } from '../../packages/consumer/src/workers/index.js'
import { RecordingCheckpointer, records, useLog } from './support/harness.js'

/*
 * WorkerShardProcessor.settleRecords against real worker threads, with the consumer's isolation: a
 * failure is isolated within the lane that failed, deadLetter runs in the main thread, and a lane's
 * bare checkpoint never reaches a record its lane is still isolating.
 */

const poisonModule = new URL('./fixtures/poison-processor.ts', import.meta.url)
const TRIM_HORIZON = { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 }

let host: WorkerThreadHost | undefined
let logDir: string | undefined
afterEach(async () => {
  await host?.close()
  host = undefined
  if (logDir !== undefined) rmSync(logDir, { recursive: true, force: true })
})

function start(lanesPerShard: number) {
  const log = useLog()
  logDir = log.dir
  host = createWorkerThreadHost({ processorModule: poisonModule, workerThreads: 2, lanesPerShard })
  return { host, log }
}

const hooks: IsolationHooks = {
  shardId: 'shardId-000',
  stopped: () => false,
  pause: async () => true,
  checkpoint: () => TRIM_HORIZON,
  failed: () => {},
  retried: () => {},
  bisected: () => {},
  deadLettered: () => {},
  deadLetterFailed: () => {},
}

/** A key of each lane (of 2). */
function keyPerLane(): [string, string] {
  const candidates = Array.from({ length: 16 }, (_, i) => `k${i}`)
  const lanes = lanesOf(records(candidates.map((key) => ({ key, data: '' }))), 2)
  return [candidates[lanes.indexOf(0)]!, candidates[lanes.indexOf(1)]!]
}

const position = (p: RecordingCheckpointer['calls'][number]) => (p === 'last' ? 'last' : p.sequenceNumber)

describe('worker-thread lanes under a dead-letter policy', () => {
  it('isolates within the lane that failed: the other lane runs its records once; deadLetter runs in the main thread', async () => {
    const { host, log } = start(2)
    const processor = host.create('shardId-000')
    await processor.initialize({ shardId: 'shardId-000', extendedSequenceNumber: TRIM_HORIZON })
    const [bad, good] = keyPerLane()
    // 16 records alternating lanes; the 4th record of lane 0 is poison.
    const batch = records(
      Array.from({ length: 16 }, (_, i) => {
        const key = i % 2 === 0 ? bad : good
        return { key, data: i === 6 ? `${key}:${i}:poison` : `${key}:${i}` }
      }),
    )
    const poisonRecord = batch[6]!
    const checkpointer = new RecordingCheckpointer()
    const dead: { poison: PoisonRecord; thread: number; checkpointsBefore: string[] }[] = []
    const policy: ResolvedDeadLetterPolicy = {
      maxAttempts: 2,
      bisectOnError: true,
      deadLetter: (poison) =>
        void dead.push({ poison, thread: threadId, checkpointsBefore: checkpointer.calls.map(position) }),
    }
    const settled = await processor.settleRecords(
      { records: batch, checkpointer, millisBehindLatest: 0 },
      new DeadLetterIsolation(policy, hooks),
    )
    expect(settled).toBe(true)

    const lines = log.lines('record')
    const data = (key: string) => lines.filter((f) => f[6] === key).map((f) => f[7])
    // The healthy lane ran its 8 records once, in order, in one call.
    expect(data(good)).toEqual(batch.filter((r) => r.partitionKey === good).map((r) => Buffer.from(r.data).toString()))
    expect(new Set(lines.filter((f) => f[6] === good).map((f) => f[5]))).toEqual(new Set(['1']))
    // The failing lane: every other record once, in order; the poison record never got through.
    expect(data(bad)).toEqual(
      batch.filter((r) => r.partitionKey === bad && r !== poisonRecord).map((r) => Buffer.from(r.data).toString()),
    )
    expect(dead).toHaveLength(1)
    const [{ poison, thread, checkpointsBefore }] = dead as [(typeof dead)[number]]
    expect(thread).toBe(threadId)
    expect(poison.record.sequenceNumber).toBe(poisonRecord.sequenceNumber)
    expect(poison.error).toMatchObject({
      code: 'ERR_WORKER_PROCESSING',
      remote: { message: expect.stringContaining('poison') },
    })
    // Lane 0's part is 8 records, the poison one 4th: the part, its first half, that half's second half
    // and the record alone failed twice each.
    expect(poison.attempts).toBe(8)
    // No checkpoint reached the poison record before it was dead-lettered; the last one reaches the end.
    for (const sequence of checkpointsBefore) expect(BigInt(sequence)).toBeLessThan(BigInt(poisonRecord.sequenceNumber))
    expect(checkpointsBefore.length).toBeGreaterThan(0)
    expect(position(checkpointer.calls.at(-1)!)).toBe(batch.at(-1)!.sequenceNumber)
  })

  it('with one lane, a bare checkpoint in a piece names that piece last record, not the batch last', async () => {
    const { host } = start(1)
    const processor = host.create('shardId-001')
    await processor.initialize({ shardId: 'shardId-001', extendedSequenceNumber: TRIM_HORIZON })
    const batch = records(Array.from({ length: 8 }, (_, i) => ({ key: 'k', data: i === 5 ? 'k:5:poison' : `k:${i}` })))
    const checkpointer = new RecordingCheckpointer()
    const dead: PoisonRecord[] = []
    const settled = await processor.settleRecords(
      { records: batch, checkpointer, millisBehindLatest: 0 },
      new DeadLetterIsolation({ maxAttempts: 1, bisectOnError: true, deadLetter: (p) => void dead.push(p) }, hooks),
    )
    expect(settled).toBe(true)
    expect(dead.map((p) => p.record.sequenceNumber)).toEqual([batch[5]!.sequenceNumber])
    // Pieces 0-3, 4, 6-7 succeeded (with one try each: 0-7, 4-7, 4-5 and 5 failed).
    expect(checkpointer.calls.map(position)).toEqual([batch[3], batch[4], batch[7]].map((r) => r!.sequenceNumber))
  })

  it('a record that kills its thread every time is dead-lettered with WorkerCrashedError; the rest is processed', async () => {
    const { host, log } = start(1)
    const processor = host.create('shardId-002')
    await processor.initialize({ shardId: 'shardId-002', extendedSequenceNumber: TRIM_HORIZON })
    const batch = records(Array.from({ length: 4 }, (_, i) => ({ key: 'k', data: i === 2 ? 'k:2:crash' : `k:${i}` })))
    const dead: PoisonRecord[] = []
    const settled = await processor.settleRecords(
      { records: batch, checkpointer: new RecordingCheckpointer(), millisBehindLatest: 0 },
      new DeadLetterIsolation({ maxAttempts: 2, bisectOnError: true, deadLetter: (p) => void dead.push(p) }, hooks),
    )
    expect(settled).toBe(true)
    expect(dead.map((p) => [p.record.sequenceNumber, p.attempts])).toEqual([[batch[2]!.sequenceNumber, 6]])
    expect(dead[0]!.error).toMatchObject({ code: 'ERR_WORKER_CRASHED' })
    expect(log.lines('record').map((f) => f[7])).toEqual(['k:0', 'k:1', 'k:3'])
  })
})

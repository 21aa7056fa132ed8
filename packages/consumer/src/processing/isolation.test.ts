import { describe, expect, it } from 'vitest'
import type { ResolvedDeadLetterPolicy } from '../config-types.js'
import type { ExtendedSequenceNumber, KinesisClientRecord, PoisonRecord } from '../types.js'
import { DeadLetterIsolation, type IsolationHooks } from './isolation.js'

/** Records 1..count, sequence number = index, key k<n mod 3>. */
function recordsUpTo(count: number): KinesisClientRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    data: Buffer.from(`r${i + 1}`),
    partitionKey: `k${(i + 1) % 3}`,
    sequenceNumber: String(i + 1),
    subSequenceNumber: 0,
    approximateArrivalTimestamp: new Date(0),
    aggregated: false,
    headers: {},
  }))
}

const seqs = (records: readonly KinesisClientRecord[]) => records.map((r) => Number(r.sequenceNumber))

/** Hooks that record every report; pauses resolve at once unless `stopAfterPauses` is reached. */
function recordingHooks(options: { stopAfterPauses?: number } = {}) {
  const log = {
    failed: [] as { attempt: number; records: number[] }[],
    retried: [] as number[][],
    bisected: [] as { records: number[]; pieces: number }[],
    deadLettered: [] as PoisonRecord[],
    deadLetterFailed: [] as { sequence: number; attempt: number }[],
    pauses: [] as number[],
  }
  let checkpoint: ExtendedSequenceNumber = { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 }
  let stopped = false
  const hooks: IsolationHooks = {
    shardId: 'shardId-0',
    stopped: () => stopped,
    pause: async (attempt) => {
      log.pauses.push(attempt)
      if (options.stopAfterPauses !== undefined && log.pauses.length >= options.stopAfterPauses) stopped = true
      return !stopped
    },
    checkpoint: () => checkpoint,
    failed: (_error, attempt, records) => log.failed.push({ attempt, records: seqs(records) }),
    retried: (records) => log.retried.push(seqs(records)),
    bisected: (records, pieces) => log.bisected.push({ records: seqs(records), pieces }),
    deadLettered: (poison) => log.deadLettered.push(poison),
    deadLetterFailed: (poison, _error, attempt) =>
      log.deadLetterFailed.push({ sequence: Number(poison.record.sequenceNumber), attempt }),
  }
  return {
    hooks,
    log,
    checkpointAt: (record: KinesisClientRecord) => {
      checkpoint = { sequenceNumber: record.sequenceNumber, subSequenceNumber: 0 }
    },
  }
}

/**
 * A processor stub: throws for any call holding a poison record; a flaky record throws on its first
 * `flakyFailures` poison-free calls. Returns the records of every successful call, in call order.
 */
function processorStub(poison: number[], flaky: number[] = [], flakyFailures = 2) {
  const calls: number[][] = []
  const processed: number[][] = []
  const flakyThrows = new Map<number, number>()
  const tryRecords = async (records: KinesisClientRecord[]) => {
    const batch = seqs(records)
    calls.push(batch)
    const bad = batch.find((n) => poison.includes(n))
    if (bad !== undefined) throw new Error(`poison ${bad}`)
    for (const n of batch.filter((n) => flaky.includes(n))) {
      const thrown = flakyThrows.get(n) ?? 0
      if (thrown < flakyFailures) {
        flakyThrows.set(n, thrown + 1)
        throw new Error(`flaky ${n}`)
      }
    }
    processed.push(batch)
  }
  return { tryRecords, calls, processed }
}

const policy = (overrides: Partial<ResolvedDeadLetterPolicy> = {}): ResolvedDeadLetterPolicy => ({
  maxAttempts: 3,
  bisectOnError: true,
  deadLetter: () => {},
  ...overrides,
})

describe('DeadLetterIsolation', () => {
  it('bisects down to the poison records, processes everything else once and in order, and counts attempts', async () => {
    const records = recordsUpTo(16)
    const { hooks, log } = recordingHooks()
    const dead: PoisonRecord[] = []
    const stub = processorStub([5, 12], [9])
    const isolation = new DeadLetterIsolation(policy({ deadLetter: (p) => void dead.push(p) }), hooks)

    expect(await isolation.settle(records, stub.tryRecords)).toBe(true)

    // Successful pieces are disjoint and settled in shard order: every other record exactly once, in order.
    expect(stub.processed.flat()).toEqual(seqs(records).filter((n) => n !== 5 && n !== 12))
    expect(stub.processed).toEqual([[1, 2, 3, 4], [6], [7, 8], [9, 10], [11], [13, 14, 15, 16]])
    expect(dead.map((p) => Number(p.record.sequenceNumber))).toEqual([5, 12])
    expect(log.deadLettered).toEqual(dead)
    // 3 tries each of 1-16, 1-8, 5-8, 5-6 and 5 alone; 12 likewise through 9-16, 9-12, 11-12.
    expect(dead.map((p) => p.attempts)).toEqual([15, 15])
    expect(dead.map((p) => (p.error as Error).message)).toEqual(['poison 5', 'poison 12'])
    expect(dead.every((p) => p.shardId === 'shardId-0')).toBe(true)
    expect(log.bisected).toEqual([
      { records: seqs(records), pieces: 2 },
      { records: [1, 2, 3, 4, 5, 6, 7, 8], pieces: 2 },
      { records: [5, 6, 7, 8], pieces: 2 },
      { records: [5, 6], pieces: 2 },
      { records: [9, 10, 11, 12, 13, 14, 15, 16], pieces: 2 },
      { records: [9, 10, 11, 12], pieces: 2 },
      { records: [11, 12], pieces: 2 },
    ])
    // The flaky record failed twice alongside 10, then 9-10 went through on its third try.
    expect(stub.calls.filter((c) => c.join() === '9,10')).toHaveLength(3)
    // Every call after the first delivers records again; every failure is reported.
    expect(log.retried).toHaveLength(stub.calls.length - 1)
    expect(log.failed).toHaveLength(stub.calls.length - stub.processed.length)
    expect(new Set(log.failed.map((f) => f.attempt))).toEqual(new Set([0, 1, 2]))
    // Backoff between the tries of one piece only: attempts 0 and 1 of a 3-try bound.
    expect(new Set(log.pauses)).toEqual(new Set([0, 1]))
  })

  it('without bisection, tries each record of a failing batch alone', async () => {
    const records = recordsUpTo(6)
    const { hooks, log } = recordingHooks()
    const dead: PoisonRecord[] = []
    const stub = processorStub([3])
    const isolation = new DeadLetterIsolation(
      policy({ bisectOnError: false, deadLetter: (p) => void dead.push(p) }),
      hooks,
    )

    expect(await isolation.settle(records, stub.tryRecords)).toBe(true)

    expect(stub.calls).toEqual([
      [1, 2, 3, 4, 5, 6],
      [1, 2, 3, 4, 5, 6],
      [1, 2, 3, 4, 5, 6],
      [1],
      [2],
      [3],
      [3],
      [3],
      [4],
      [5],
      [6],
    ])
    expect(stub.processed).toEqual([[1], [2], [4], [5], [6]])
    expect(dead.map((p) => [Number(p.record.sequenceNumber), p.attempts])).toEqual([[3, 6]])
    expect(log.bisected).toEqual([{ records: [1, 2, 3, 4, 5, 6], pieces: 6 }])
  })

  it('a batch that succeeds within maxAttempts is neither split nor dead-lettered', async () => {
    const records = recordsUpTo(4)
    const { hooks, log } = recordingHooks()
    const stub = processorStub([], [2])
    const isolation = new DeadLetterIsolation(policy(), hooks)

    expect(await isolation.settle(records, stub.tryRecords)).toBe(true)
    expect(stub.calls).toEqual([
      [1, 2, 3, 4],
      [1, 2, 3, 4],
      [1, 2, 3, 4],
    ])
    expect(log.bisected).toEqual([])
    expect(log.deadLettered).toEqual([])
    expect(log.pauses).toEqual([0, 1])
  })

  it('calls a deadLetter that throws again, with backoff, until it returns: the record is handed over once', async () => {
    const records = recordsUpTo(1)
    const { hooks, log } = recordingHooks()
    let calls = 0
    const isolation = new DeadLetterIsolation(
      policy({
        deadLetter: () => {
          calls++
          if (calls <= 2) throw new Error('dead-letter stream unavailable')
        },
      }),
      hooks,
    )
    expect(await isolation.settle(records, processorStub([1]).tryRecords)).toBe(true)
    expect(calls).toBe(3)
    expect(log.deadLetterFailed).toEqual([
      { sequence: 1, attempt: 0 },
      { sequence: 1, attempt: 1 },
    ])
    expect(log.deadLettered.map((p) => [p.record.sequenceNumber, p.attempts])).toEqual([['1', 3]])
    // Tries 1→2, 2→3 of the record, then the two failed deadLetter calls.
    expect(log.pauses).toEqual([0, 1, 0, 1])
  })

  it('a shard that stops while a deadLetter keeps failing abandons the batch: nothing is dead-lettered', async () => {
    const records = recordsUpTo(1)
    // Two pauses between the record's tries, then the first deadLetter failure's pause ends it.
    const { hooks, log } = recordingHooks({ stopAfterPauses: 3 })
    const isolation = new DeadLetterIsolation(
      policy({
        deadLetter: () => {
          throw new Error('down')
        },
      }),
      hooks,
    )
    expect(await isolation.settle(records, processorStub([1]).tryRecords)).toBe(false)
    expect(log.deadLetterFailed).toHaveLength(1)
    expect(log.deadLettered).toEqual([])
  })

  it('a shard that stops between tries abandons the rest: no later piece is tried', async () => {
    const records = recordsUpTo(8)
    const { hooks, log } = recordingHooks({ stopAfterPauses: 1 })
    const stub = processorStub([7])
    const isolation = new DeadLetterIsolation(policy(), hooks)
    expect(await isolation.settle(records, stub.tryRecords)).toBe(false)
    expect(stub.calls).toEqual([[1, 2, 3, 4, 5, 6, 7, 8]])
    expect(log.retried).toEqual([])
  })

  it('does not deliver again the records the processor checkpointed inside a failed try', async () => {
    const records = recordsUpTo(6)
    const { hooks, log, checkpointAt } = recordingHooks()
    const calls: number[][] = []
    const dead: PoisonRecord[] = []
    // Checkpoints each record it gets through, as a per-record processor does, and throws at 4.
    const tryRecords = async (part: KinesisClientRecord[]) => {
      calls.push(seqs(part))
      for (const record of part) {
        if (record.sequenceNumber === '4') throw new Error('poison 4')
        checkpointAt(record)
      }
    }
    const isolation = new DeadLetterIsolation(policy({ deadLetter: (p) => void dead.push(p) }), hooks)
    expect(await isolation.settle(records, tryRecords)).toBe(true)
    // 1-3 were checkpointed in the first try: the retries and the pieces start at 4.
    expect(calls).toEqual([[1, 2, 3, 4, 5, 6], [4, 5, 6], [4, 5, 6], [4, 5], [4, 5], [4, 5], [4], [4], [4], [5], [6]])
    expect(log.retried[0]).toEqual([4, 5, 6])
    expect(dead.map((p) => [p.record.sequenceNumber, p.attempts])).toEqual([['4', 9]])
  })

  it('an empty batch that keeps failing is done after maxAttempts, with nothing to dead-letter', async () => {
    const { hooks, log } = recordingHooks()
    let calls = 0
    const isolation = new DeadLetterIsolation(policy(), hooks)
    const settled = await isolation.settle([], async () => {
      calls++
      throw new Error('no')
    })
    expect(settled).toBe(true)
    expect(calls).toBe(3)
    expect(log.deadLettered).toEqual([])
    expect(log.bisected).toEqual([])
  })
})

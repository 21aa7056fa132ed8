import { describe, expect, it } from 'vitest'
import { heldTimes, percentile, redeliveries, resumeTimes, summarize } from './handoff-results.js'
import type { WorkerEventOf } from './worker-protocol.js'

const batch = (shardId: string, at: number, ...sequenceNumbers: string[]): WorkerEventOf<'batch'> => ({
  type: 'batch',
  workerId: 'b',
  at,
  shardId,
  sequenceNumbers,
})
const checkpointed = (shardId: string, sequenceNumber: string | undefined): WorkerEventOf<'checkpointed'> => ({
  type: 'checkpointed',
  workerId: 'a',
  at: 0,
  shardId,
  sequenceNumber,
})

describe('resumeTimes', () => {
  it("is each shard's first batch at or after the moment, ignoring earlier batches and other shards", () => {
    const batches = [batch('s1', 900), batch('s1', 1_500), batch('s1', 1_200), batch('s2', 1_000), batch('s3', 1_100)]
    expect(resumeTimes(batches, ['s1', 's2', 's4'], 1_000)).toEqual(
      new Map([
        ['s1', 200],
        ['s2', 0],
      ]),
    )
  })
})

describe('heldTimes', () => {
  it("is each shard's first lease report at or after the moment that holds it", () => {
    const report = (at: number, ...leases: string[]): WorkerEventOf<'leases'> => ({
      type: 'leases',
      workerId: 'b',
      at,
      leases,
    })
    const reports = [report(900, 's1'), report(1_050, 's2'), report(1_300, 's1', 's2', 's3')]
    expect(heldTimes(reports, ['s1', 's2', 's4'], 1_000)).toEqual(
      new Map([
        ['s2', 50],
        ['s1', 300],
      ]),
    )
  })
})

describe('redeliveries', () => {
  it('counts records at or below the checkpoint processed after the moment, compared as numbers', () => {
    const check = redeliveries(
      ['s1', 's2', 's3'],
      [checkpointed('s1', '100'), checkpointed('s2', undefined)],
      [
        batch('s1', 50, '99'),
        batch('s1', 1_000, '99', '100', '101'),
        batch('s2', 1_000, '5'),
        batch('s1', 1_100, '1000'),
      ],
      1_000,
    )
    // '99' and '100' (not '1000', which sorts before '101' as a string); s2 delivered nothing, so bounds nothing.
    expect(check).toEqual({ violations: 2, missingCheckpoints: 1 })
  })
})

describe('percentile', () => {
  it('takes the nearest rank: p50 of four is the second, p100 the largest', () => {
    expect(percentile([40, 10, 30, 20], 50)).toBe(20)
    expect(percentile([40, 10, 30, 20], 100)).toBe(40)
    expect(percentile([7], 50)).toBe(7)
    expect(percentile([], 50)).toBeNaN()
  })
})

describe('summarize', () => {
  const round = (times: [string, number][], shards = times.map(([s]) => s)) => ({
    shards,
    times: new Map(times),
    held: new Map(times.map(([s, ms]) => [s, ms - 5] as const)),
  })

  it('spans every shard of every round and passes when the largest is within the target', () => {
    const s = summarize(
      [
        round([
          ['a', 100],
          ['b', 300],
        ]),
        round([['c', 200]]),
      ],
      300,
    )
    expect(s).toMatchObject({
      moved: 3,
      unresumed: 0,
      p50: 200,
      p100: 300,
      perRoundP100: [300, 200],
      sorted: [100, 200, 300],
      heldP50: 195,
      heldP100: 295,
      pass: true,
    })
    expect(summarize([round([['a', 301]])], 300).pass).toBe(false)
  })

  it('misses when a shard never resumed, however fast the others were', () => {
    const s = summarize([round([['a', 10]], ['a', 'b'])], 300)
    expect(s).toMatchObject({ moved: 2, unresumed: 1, p100: 10, pass: false })
  })

  it('misses when a round broke off, whatever the others measured', () => {
    expect(summarize([round([['a', 10]])], 300, 1)).toMatchObject({ failedRounds: 1, p100: 10, pass: false })
  })
})

import { describe, expect, it } from 'vitest'
import { balanceTimes, balancedRange, splitState } from './balance-results.js'
import type { WorkerEventOf } from './worker-protocol.js'

const report = (workerId: string, at: number, ...leases: string[]): WorkerEventOf<'leases'> => ({
  type: 'leases',
  workerId,
  at,
  leases,
})
const shards = ['s0', 's1', 's2', 's3', 's4', 's5']
const workers = ['a', 'b', 'c']

describe('balancedRange', () => {
  it('is the average ±10% in whole leases', () => {
    expect(balancedRange(12, 3, 10)).toEqual([4, 4])
    expect(balancedRange(64, 8, 10)).toEqual([8, 8])
    expect(balancedRange(100, 4, 10)).toEqual([23, 27])
  })
  it('widens to the whole counts around the average when none lies within the band', () => {
    expect(balancedRange(8, 3, 10)).toEqual([2, 3])
  })
})

describe('splitState', () => {
  it('is incomplete when a shard is held twice or not at all', () => {
    const twice = new Map([
      ['a', ['s0', 's1']],
      ['b', ['s1', 's2', 's3']],
      ['c', ['s4', 's5']],
    ])
    expect(splitState(twice, workers, shards, 10)).toEqual({ complete: false, balanced: false })
    const missing = new Map([
      ['a', ['s0', 's1']],
      ['b', ['s2', 's3']],
      ['c', ['s4']],
    ])
    expect(splitState(missing, workers, shards, 10).complete).toBe(false)
  })
  it('is complete but not balanced at 4-1-1', () => {
    const skewed = new Map([
      ['a', ['s0', 's1', 's2', 's3']],
      ['b', ['s4']],
      ['c', ['s5']],
    ])
    expect(splitState(skewed, workers, shards, 10)).toEqual({ complete: true, balanced: false })
  })
})

describe('balanceTimes', () => {
  it('replays the reports in time order and finds the first complete and the first balanced moment', () => {
    const reports = [
      report('a', 1_300, 's0', 's1'),
      report('a', 1_100, 's0', 's1', 's2', 's3', 's4', 's5'),
      report('b', 1_200, 's2', 's3'),
      report('c', 1_400, 's4', 's5'),
    ]
    // At 1 100 a holds everything (complete, 6-0-0); at 1 200 s2 and s3 are held twice; at 1 300 s4 and
    // s5 by nobody; at 1 400 2-2-2.
    expect(balanceTimes(reports, workers, shards, 1_000)).toEqual({
      completeMs: 100,
      balancedMs: 400,
      finalCounts: [2, 2, 2],
    })
  })
  it('never balanced: undefined, with the final counts', () => {
    const reports = [report('a', 1_100, 's0', 's1', 's2', 's3'), report('b', 1_100, 's4', 's5')]
    expect(balanceTimes(reports, workers, shards, 1_000)).toEqual({
      completeMs: 100,
      balancedMs: undefined,
      finalCounts: [4, 2, 0],
    })
  })
})

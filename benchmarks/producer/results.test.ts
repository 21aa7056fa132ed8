import { describe, expect, it } from 'vitest'
import { type BurstLevels, burstLevelAt, reportedButMissing, steadyRate } from './results.js'

/** 4 shards of 1 MiB buckets refilling 1 MiB/s each. */
const MiB = 1024 * 1024
const fullBuckets = (levels: number[] = []): BurstLevels => ({
  fullBytes: 4 * MiB,
  bytesPerMs: (4 * MiB) / 1000,
  levels,
})

describe('burstLevelAt', () => {
  it('is full before any request, refills from the last level at the buckets rate, and stops at full', () => {
    const burst = fullBuckets([1000, 0, 2000, MiB])
    expect(burstLevelAt(burst, 500)).toBe(4 * MiB)
    expect(burstLevelAt(burst, 1000)).toBe(0)
    expect(burstLevelAt(burst, 1250)).toBe(MiB)
    expect(burstLevelAt(burst, 2500)).toBe(3 * MiB)
    expect(burstLevelAt(burst, 9000)).toBe(4 * MiB)
  })
})

describe('steadyRate', () => {
  // One request every 100 ms from t=0 to t=5000, each delivering 100 records of 4000 metered bytes.
  const timeline = Array.from({ length: 51 }, (_, i) => [i * 100, 100, 4000]).flat()

  it('counts from one burst period after the first request (excluded) to the last offer (included)', () => {
    const rate = steadyRate(timeline, 0, 4000, 1000, fullBuckets())
    // Requests at 1100..4000: 30 of them over 3 s.
    expect(rate).toMatchObject({ window: 'steady', seconds: 3, burstDrainedBytes: 0 })
    expect(rate.recordsPerSecond).toBeCloseTo(1000, 9)
    expect(rate.bytesPerSecond).toBeCloseTo(40_000, 9)
  })

  it('deducts what the window drained from the burst: records in proportion to their bytes', () => {
    // The buckets hold 2 MiB at t=1000 and none at t=4000: 2 MiB of the window came from the burst.
    const drained = fullBuckets([1000, 2 * MiB, 4000, 0])
    const bytes = 30 * 4000
    const timelineOfBigWrites = timeline.map((value, i) => (i % 3 === 2 ? value * 100 : value))
    const rate = steadyRate(timelineOfBigWrites, 0, 4000, 1000, drained)
    expect(rate.burstDrainedBytes).toBe(2 * MiB)
    expect(rate.bytesPerSecond).toBeCloseTo((bytes * 100 - 2 * MiB) / 3, 6)
    expect(rate.recordsPerSecond).toBeCloseTo((3000 * (bytes * 100 - 2 * MiB)) / (bytes * 100) / 3, 6)
  })

  it('deducts nothing when the buckets end as full as they began', () => {
    const rate = steadyRate(timeline, 0, 4000, 1000, fullBuckets([1000, MiB, 4000, 3 * MiB]))
    expect(rate.burstDrainedBytes).toBe(0)
    expect(rate.bytesPerSecond).toBeCloseTo(40_000, 9)
  })

  it('widens the window of a short run: to the last write, then the whole run', () => {
    expect(steadyRate(timeline, 0, 1500, 1000, fullBuckets())).toMatchObject({ window: 'to last write', seconds: 4 })
    const short = timeline.slice(0, 3 * 12) // requests at 0..1100
    const whole = steadyRate(short, 0, 1100, 1000, fullBuckets())
    expect(whole).toMatchObject({ window: 'whole run', seconds: 1.101 })
    expect(whole.recordsPerSecond).toBeCloseTo(1200 / 1.101, 6)
  })
})

describe('reportedButMissing', () => {
  it('counts records reported written that the endpoint never accepted, and only those', () => {
    const successes = Uint8Array.from([0b1111_0000, 0b0000_0011])
    const accepted = Uint8Array.from([0b1010_1111, 0b0000_0001])
    expect(reportedButMissing(successes, accepted)).toBe(3)
  })
})

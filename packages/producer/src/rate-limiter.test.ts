import { describe, expect, it } from 'vitest'
import { ShardRateLimiter } from './rate-limiter.js'

describe('ShardRateLimiter', () => {
  it('allows rateLimit% of 1000 records/s per second, refilling over time', () => {
    const limiter = new ShardRateLimiter(150, 0)
    let taken = 0
    while (limiter.allowance(10, 0) > 0) {
      limiter.take(10, 0)
      taken++
    }
    expect(taken).toBe(1500)
    // 100 ms later: a tenth of a second's records.
    let later = 0
    while (limiter.allowance(10, 100) > 0) {
      limiter.take(10, 100)
      later++
    }
    expect(later).toBe(150)
  })

  it('limits bytes to rateLimit% of 1 MiB/s', () => {
    const limiter = new ShardRateLimiter(100, 0)
    expect(limiter.allowance(600 * 1024, 0)).toBe(1024 * 1024)
    limiter.take(600 * 1024, 0)
    expect(limiter.allowance(600 * 1024, 0)).toBe(0)
    // 176 KiB missing at 1 MiB/s.
    expect(limiter.waitFor(600 * 1024, 0)).toBe(172)
  })

  it('lets a record bigger than a second of bytes go when the bucket is full, alone', () => {
    const limiter = new ShardRateLimiter(10, 0)
    expect(limiter.allowance(200_000, 0)).toBe(200_000)
    limiter.take(200_000, 0)
    expect(limiter.allowance(200_000, 500)).toBe(0)
  })

  it('halves its rate once per overload and wins it back linearly in time (AIMD)', () => {
    const limiter = new ShardRateLimiter(100, 0)
    limiter.throttled(1_000)
    expect(limiter.factor).toBe(0.5)
    // Throttles within a second of the decrease are the same overload.
    limiter.throttled(1_500)
    expect(limiter.factor).toBe(0.5)
    limiter.throttled(2_000)
    expect(limiter.factor).toBe(0.25)
    // Half the ceiling per second since the decrease, however many requests succeed meanwhile.
    for (let t = 2_100; t <= 2_400; t += 100) limiter.succeeded(t)
    expect(limiter.factor).toBeCloseTo(0.45)
    limiter.succeeded(4_000)
    expect(limiter.factor).toBe(1)
    for (let t = 5_000; t < 100_000; t += 1_000) limiter.throttled(t)
    expect(limiter.factor).toBe(0.05)
  })
})

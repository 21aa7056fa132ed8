import { describe, expect, it } from 'vitest'
import { ShardRateLimiter } from './rate-limiter.js'

describe('ShardRateLimiter', () => {
  it('allows rateLimit% of 1000 records/s per second, refilling over time', () => {
    const limiter = new ShardRateLimiter(150, 0)
    let taken = 0
    while (limiter.tryTake(10, 0)) taken++
    expect(taken).toBe(1500)
    expect(limiter.tryTake(10, 100)).toBe(true)
  })

  it('limits bytes to rateLimit% of 1 MiB/s', () => {
    const limiter = new ShardRateLimiter(100, 0)
    expect(limiter.tryTake(600 * 1024, 0)).toBe(true)
    expect(limiter.tryTake(600 * 1024, 0)).toBe(false)
    expect(limiter.waitFor(600 * 1024, 0)).toBeGreaterThan(100)
  })

  it('halves its rate when the shard throttles and wins it back step by step (AIMD)', () => {
    const limiter = new ShardRateLimiter(100, 0)
    limiter.throttled()
    expect(limiter.factor).toBe(0.5)
    limiter.throttled()
    expect(limiter.factor).toBe(0.25)
    for (let i = 0; i < 5; i++) limiter.succeeded()
    expect(limiter.factor).toBeCloseTo(0.5)
    for (let i = 0; i < 100; i++) limiter.succeeded()
    expect(limiter.factor).toBe(1)
    for (let i = 0; i < 100; i++) limiter.throttled()
    expect(limiter.factor).toBe(0.05)
  })
})

import { describe, expect, it } from 'vitest'
import { KINESIS_SHARD_LIMITS, MAX_ENTRY_BYTES, ShardThrottle, TokenBucket } from './token-bucket.js'

describe('TokenBucket', () => {
  it('starts full: a whole burst at once, then nothing until time passes', () => {
    const bucket = new TokenBucket(1000, 1000, 0)
    let taken = 0
    while (bucket.tryTake(1, 0)) taken++
    expect(taken).toBe(1000)
    expect(bucket.available(0)).toBe(0)
  })

  it('refills at its rate: 250 ms of a 1000/s bucket is 250 tokens', () => {
    const bucket = new TokenBucket(1000, 1000, 0)
    expect(bucket.tryTake(1000, 0)).toBe(true)
    expect(bucket.available(250)).toBeCloseTo(250, 9)
    expect(bucket.tryTake(250, 250)).toBe(true)
    expect(bucket.tryTake(1, 250)).toBe(false)
  })

  it('never holds more than its capacity, however long it stays idle', () => {
    const bucket = new TokenBucket(1000, 1000, 0)
    expect(bucket.tryTake(1000, 0)).toBe(true)
    expect(bucket.available(60_000)).toBe(1000)
  })

  it('takes all of an amount or nothing', () => {
    const bucket = new TokenBucket(1000, 1000, 0)
    expect(bucket.tryTake(600, 0)).toBe(true)
    expect(bucket.tryTake(600, 0)).toBe(false)
    expect(bucket.available(0)).toBe(400)
  })

  it('refills nothing when the clock goes backwards', () => {
    const bucket = new TokenBucket(1000, 1000, 100)
    expect(bucket.tryTake(1000, 100)).toBe(true)
    expect(bucket.available(50)).toBe(0)
  })
})

describe('ShardThrottle', () => {
  it('admits 1000 records in the first second of a shard and refuses the 1001st, bytes to spare', () => {
    const shard = new ShardThrottle(KINESIS_SHARD_LIMITS, 0)
    for (let i = 0; i < 1000; i++) expect(shard.tryAdmit(100, 0)).toBe(true)
    expect(shard.tryAdmit(100, 0)).toBe(false)
    // 1 ms later, one record's worth of the records bucket is back.
    expect(shard.tryAdmit(100, 1)).toBe(true)
    expect(shard.tryAdmit(100, 1)).toBe(false)
  })

  it('refuses on bytes without spending a record token', () => {
    const shard = new ShardThrottle(KINESIS_SHARD_LIMITS, 0)
    expect(shard.tryAdmit(700 * 1024, 0)).toBe(true)
    expect(shard.tryAdmit(700 * 1024, 0)).toBe(false)
    // 998 more records fit in the records bucket: the refused entry took none.
    let admitted = 0
    while (shard.tryAdmit(1, 0)) admitted++
    expect(admitted).toBe(999)
  })

  it('always has room for one largest legal entry (1 MiB of data and a 256-character key), and then needs a second', () => {
    const shard = new ShardThrottle(KINESIS_SHARD_LIMITS, 0)
    expect(shard.tryAdmit(MAX_ENTRY_BYTES, 0)).toBe(true)
    expect(shard.tryAdmit(MAX_ENTRY_BYTES, 999)).toBe(false)
    // The byte bucket refills 1 MiB/s: 1 MiB + 256 B takes 1000.25 ms.
    expect(shard.tryAdmit(MAX_ENTRY_BYTES, 1000.2)).toBe(false)
    expect(shard.tryAdmit(MAX_ENTRY_BYTES, 1000.3)).toBe(true)
  })
})

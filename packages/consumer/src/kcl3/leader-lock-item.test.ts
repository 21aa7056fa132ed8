import { ConfigurationError } from '@kinesis-ts/shared'
import { describe, expect, it } from 'vitest'
import { leaderLockCadence, leaderLockFromItem, leaderLockTiming } from './leader-lock-item.js'

describe('leaderLockTiming', () => {
  it('Java defaults: 120 000 ms duration, 30 000 ms heartbeat', () => {
    expect(leaderLockTiming({})).toEqual({ leaseDurationMillis: 120_000, heartbeatPeriodMillis: 30_000 })
  })

  it('refuses a duration below two heartbeats, naming both options', () => {
    const attempt = () =>
      leaderLockTiming({
        dynamoDbLockBasedLeaderLeaseDurationInMillis: 59_999,
        dynamoDbLockBasedLeaderHeartbeatPeriodInMillis: 30_000,
      })
    expect(attempt).toThrow(ConfigurationError)
    expect(attempt).toThrow(
      /dynamoDbLockBasedLeaderLeaseDurationInMillis: expected at least 2 × dynamoDbLockBasedLeaderHeartbeatPeriodInMillis \(60000\)/,
    )
    expect(
      leaderLockTiming({
        dynamoDbLockBasedLeaderLeaseDurationInMillis: 60_000,
        dynamoDbLockBasedLeaderHeartbeatPeriodInMillis: 30_000,
      }).leaseDurationMillis,
    ).toBe(60_000)
  })

  it('refuses non-integers', () => {
    expect(() => leaderLockTiming({ dynamoDbLockBasedLeaderHeartbeatPeriodInMillis: 1.5 })).toThrow(
      /dynamoDbLockBasedLeaderHeartbeatPeriodInMillis/,
    )
  })
})

describe('leaderLockFromItem', () => {
  it('reads the lock client attributes; leaseDuration is a decimal string', () => {
    expect(
      leaderLockFromItem({
        leaseKey: { S: 'Leader' },
        ownerName: { S: 'w1' },
        leaseDuration: { S: '120000' },
        recordVersionNumber: { S: 'r1' },
      }),
    ).toEqual({
      ownerName: 'w1',
      leaseDurationMillis: 120_000,
      recordVersionNumber: 'r1',
      fastLeaseDurationMillis: undefined,
    })
    expect(leaderLockFromItem({ leaseDuration: { S: 'soon' } }).leaseDurationMillis).toBeUndefined()
  })
})

describe('leaderLockCadence (issue 17: the fast lease)', () => {
  const java = { leaseDurationMillis: 120_000, heartbeatPeriodMillis: 30_000 }

  it('without a fast lease: the Java cadence exactly', () => {
    expect(leaderLockCadence(java, undefined, undefined)).toEqual({
      fastLeaseMillis: undefined,
      holdMillis: 120_000,
      heartbeatEveryMillis: 30_000,
      fastWatchMillis: 30_000,
    })
  })

  it('a fast lease of failoverTimeMillis: held no longer than it, heartbeated every third of it', () => {
    expect(leaderLockCadence(java, 10_000, 500)).toEqual({
      fastLeaseMillis: 10_000,
      holdMillis: 10_000,
      heartbeatEveryMillis: 3_333,
      fastWatchMillis: 500,
    })
  })

  it('a fast lease not below the Java duration is no promise at all', () => {
    expect(leaderLockCadence(java, 120_000, 500).fastLeaseMillis).toBeUndefined()
    expect(leaderLockCadence(java, 120_000, 500).holdMillis).toBe(120_000)
  })

  it('refuses a fast lease too short to heartbeat within', () => {
    expect(() => leaderLockCadence(java, 2, 500)).toThrow(/failoverTimeMillis/)
  })
})

describe('leaderLockFromItem, the fast lease', () => {
  it('reads a positive number only', () => {
    const item = { ownerName: { S: 'w1' }, recordVersionNumber: { S: 'r1' } }
    expect(
      leaderLockFromItem({ ...item, kinesisTsFastLeaseDurationMillis: { N: '10000' } }).fastLeaseDurationMillis,
    ).toBe(10_000)
    expect(
      leaderLockFromItem({ ...item, kinesisTsFastLeaseDurationMillis: { N: '0' } }).fastLeaseDurationMillis,
    ).toBeUndefined()
    expect(
      leaderLockFromItem({ ...item, kinesisTsFastLeaseDurationMillis: { S: '10000' } }).fastLeaseDurationMillis,
    ).toBeUndefined()
  })
})

import { ConfigurationError } from '@kinesis-ts/shared'
import { describe, expect, it } from 'vitest'
import { leaderLockFromItem, leaderLockTiming } from './leader-lock-item.js'

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
    ).toEqual({ ownerName: 'w1', leaseDurationMillis: 120_000, recordVersionNumber: 'r1' })
    expect(leaderLockFromItem({ leaseDuration: { S: 'soon' } }).leaseDurationMillis).toBeUndefined()
  })
})

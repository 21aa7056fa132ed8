import { describe, expect, it } from 'vitest'
import { resolveConsumerConfig } from '../config.js'
import { HeldLease } from '../leases/held-lease.js'
import { newLease } from '../leases/lease.js'
import type { ShardRecordProcessor } from '../types.js'
import { HandoffTracker, isHandingOff } from './handoff.js'
import { ThroughputMeter } from './lease-throughput.js'
import { discoveryIntervalOf } from './worker-mode.js'

const TRIM = { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 }
const held = (key = 'shardId-0') =>
  new HeldLease({ ...newLease(key, TRIM, [], undefined), leaseOwner: 'me' }, 'me', async () => undefined, 0)

describe('ThroughputMeter', () => {
  it('reports delivered KB/s per interval, smoothed with α 0.5, and consumes the bytes it counted', () => {
    let now = 0
    const meter = new ThroughputMeter(() => now)
    const lease = held()
    meter.start(lease)
    lease.recordDelivered(2_048)
    now = 1_000
    expect(meter.measure(lease)).toBe(2)
    lease.recordDelivered(4_096 * 2)
    now = 3_000
    // Newest interval 4 KB/s, EMA 0.5 × 4 + 0.5 × 2.
    expect(meter.measure(lease)).toBe(3)
    now = 4_000
    expect(meter.measure(lease)).toBe(1.5)
    lease.recordDelivered(1)
    now = 7_000
    // Rounded to 6 decimals: 0.5 × 1/3072 + 0.75.
    expect(meter.measure(lease)).toBe(0.750163)
  })
})

describe('HandoffTracker', () => {
  it('notices a handoff once and reports it overdue after the timeout', () => {
    let now = 0
    const tracker = new HandoffTracker(30_000, () => now)
    const lease = held()
    expect(tracker.notice(lease)).toBe(true)
    expect(tracker.notice(lease)).toBe(false)
    now = 29_999
    expect(tracker.overdue()).toEqual([])
    now = 30_000
    expect(tracker.overdue()).toEqual([lease])
    tracker.forget(lease.leaseKey)
    expect(tracker.overdue()).toEqual([])
  })

  it('tells a handoff this worker gives from one it receives', () => {
    const lease = newLease('shardId-0', TRIM, [], undefined)
    expect(isHandingOff({ ...lease, leaseOwner: 'new', checkpointOwner: 'me' }, 'me')).toBe(true)
    expect(isHandingOff({ ...lease, leaseOwner: 'me', checkpointOwner: 'old' }, 'me')).toBe(false)
    expect(isHandingOff({ ...lease, leaseOwner: 'me', checkpointOwner: undefined }, 'me')).toBe(false)
  })
})

describe('discoveryIntervalOf', () => {
  const config = (options: object) =>
    resolveConsumerConfig({
      streamName: 's',
      applicationName: 'app',
      processorFactory: () => ({}) as ShardRecordProcessor,
      ...options,
    })
  it('is failoverTimeMillis / 20 (the expiry watch cadence) within [100, 1000] ms and never slower than Java (assignment interval / 2 − 25)', () => {
    expect(discoveryIntervalOf(config({}))).toBe(500)
    expect(discoveryIntervalOf(config({ failoverTimeMillis: 3_000 }))).toBe(150)
    expect(discoveryIntervalOf(config({ failoverTimeMillis: 60_000 }))).toBe(1_000)
    expect(discoveryIntervalOf(config({ failoverTimeMillis: 200 }))).toBe(100)
    expect(discoveryIntervalOf(config({ leaseAssignmentIntervalMillis: 800 }))).toBe(375)
  })
})

import { describe, expect, it } from 'vitest'
import type { WorkerMetricStats } from './contracts.js'
import { isReadyForUpgradeTo3x, isWorkerMetricStatsActive } from './migration-ready-monitor.js'

const stats = (workerId: string, lastUpdateTimeSeconds: number): WorkerMetricStats => ({
  workerId,
  lastUpdateTimeSeconds,
  metricStats: {},
  operatingRange: {},
})
const NOW = 1_700_000_000_500

describe('isWorkerMetricStatsActive: lut + 2 × reporter period > now, in whole seconds', () => {
  it('fresh just inside the window, stale at its edge', () => {
    expect(isWorkerMetricStatsActive(stats('w', 1_700_000_000 - 59), NOW, 30_000)).toBe(true)
    expect(isWorkerMetricStatsActive(stats('w', 1_700_000_000 - 60), NOW, 30_000)).toBe(false)
  })
})

describe('isReadyForUpgradeTo3x (Java MigrationReadyMonitor)', () => {
  const fresh = [stats('a', 1_700_000_000), stats('b', 1_700_000_000)]

  it('ready when the GSI is active and every lease owner reports', () => {
    expect(isReadyForUpgradeTo3x(true, ['a', 'b', 'a'], fresh, NOW, 30_000)).toBe(true)
  })

  it('not without the GSI', () => {
    expect(isReadyForUpgradeTo3x(false, ['a'], fresh, NOW, 30_000)).toBe(false)
  })

  it('not while one owner has no item or a stale one', () => {
    expect(isReadyForUpgradeTo3x(true, ['a', 'c'], fresh, NOW, 30_000)).toBe(false)
    expect(isReadyForUpgradeTo3x(true, ['a', 'b'], [fresh[0]!, stats('b', 1_699_999_000)], NOW, 30_000)).toBe(false)
  })

  it('not while a lease is unowned (Java keeps the null owner in its set)', () => {
    expect(isReadyForUpgradeTo3x(true, ['a', undefined], fresh, NOW, 30_000)).toBe(false)
  })

  it('workers without leases do not matter; no leases at all is ready', () => {
    expect(isReadyForUpgradeTo3x(true, ['a'], [fresh[0]!, stats('idle', 1)], NOW, 30_000)).toBe(true)
    expect(isReadyForUpgradeTo3x(true, [], [], NOW, 30_000)).toBe(true)
  })
})

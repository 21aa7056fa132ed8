import { describe, expect, it } from 'vitest'
import {
  type CostSample,
  costFigures,
  diffTally,
  javaKcl2Figures,
  readCostRule,
  roleFigures,
  sumTallies,
  unitsPerEventualScan,
} from './cost-results.js'
import type { DynamoTally } from './worker-protocol.js'

describe('tallies', () => {
  it('sum across workers and subtract the start of the window, kind by kind', () => {
    const before = sumTallies([{ UpdateItem: { requests: 10, failed: 0, units: 10 } }, {}])
    const after = sumTallies([
      { UpdateItem: { requests: 15, failed: 1, units: 14 } },
      { 'Scan:eventual': { requests: 3, failed: 0, units: 1.5 } },
    ])
    expect(diffTally(before, after)).toEqual({
      UpdateItem: { requests: 5, failed: 1, units: 4 },
      'Scan:eventual': { requests: 3, failed: 0, units: 1.5 },
    })
  })
})

describe('costFigures', () => {
  // 2 workers, 4 leases, 36 s (a hundredth of an hour).
  const sample = {
    workers: 2,
    leases: 4,
    windowMs: 36_000,
    consistentScansPricedAsEventual: false,
    tally: {
      UpdateItem: { requests: 40, failed: 2, units: 38 },
      'Scan:consistent': { requests: 4, failed: 0, units: 4 },
      'Scan:eventual': { requests: 100, failed: 0, units: 50 },
      'GetItem:consistent': { requests: 2, failed: 0, units: 2 },
      DescribeTable: { requests: 6, failed: 0, units: 0 },
    },
  }
  const figures = costFigures(sample)

  it('rates writes per lease and per worker, and reads by consistency, per hour; DescribeTable is no read', () => {
    expect(figures).toEqual({
      writesPerLeaseHour: 1_000,
      writesPerWorkerHour: 2_000,
      readsPerLeaseHour: 2_650,
      readsPerWorkerHour: 5_300,
      consistentReadsPerWorkerHour: 300,
      eventualReadsPerWorkerHour: 5_000,
      readUnitsPerWorkerHour: 2_800,
      readUnitsPerLeaseHour: 1_400,
      // 38 reported units and 2 failed conditional writes charged one each.
      writeUnitsPerLeaseHour: 1_000,
      failedRequests: 2,
    })
  })

  it('doubles the units of consistent Scans when the backend priced them as eventually consistent (dynalite)', () => {
    const repriced = costFigures({ ...sample, consistentScansPricedAsEventual: true })
    // 4 more units (the consistent Scans' 4 counted twice) over the hundredth of an hour, per worker.
    expect(repriced.readUnitsPerWorkerHour).toBe(2_800 + 200)
    expect(repriced.readsPerWorkerHour).toBe(figures.readsPerWorkerHour)
  })

  it('judges the read cost rule in read units, not requests', () => {
    const watchOff = { ...figures, readUnitsPerWorkerHour: 2_400, readsPerWorkerHour: 300 }
    expect(readCostRule(figures, watchOff)).toEqual({
      unitsRatio: 2_800 / 2_400,
      requestsRatio: 5_300 / 300,
      pass: true,
    })
    expect(readCostRule(figures, { ...watchOff, readUnitsPerWorkerHour: 2_000 }).pass).toBe(false)
  })
})

describe('the Java KCL 2.x figures', () => {
  it('renew each lease every 3.3 s and scan eventually consistent every 20.05 s per worker', () => {
    const java = javaKcl2Figures(4, 16, 1)
    expect(java.writesPerLeaseHour).toBeCloseTo(3_600 / 3.3, 6)
    expect(java.writesPerWorkerHour).toBeCloseTo((4 * 3_600) / 3.3, 6)
    expect(java.readsPerWorkerHour).toBeCloseTo(3_600 / 20.05, 6)
    expect(java.eventualReadsPerWorkerHour).toBe(java.readsPerWorkerHour)
    expect(java.consistentReadsPerWorkerHour).toBe(0)
    expect(java.readsPerLeaseHour).toBeCloseTo(3_600 / 20.05 / 4, 6)
    expect(java.readUnitsPerWorkerHour).toBeCloseTo(3_600 / 20.05, 6)
  })

  it('price a scan from the eventually consistent scans counted, else half the consistent ones', () => {
    const priced = (tally: DynamoTally, consistentScansPricedAsEventual = false) => ({
      tally,
      consistentScansPricedAsEventual,
    })
    expect(unitsPerEventualScan(priced({ 'Scan:eventual': { requests: 4, failed: 0, units: 2 } }))).toBe(0.5)
    expect(unitsPerEventualScan(priced({ 'Scan:consistent': { requests: 2, failed: 0, units: 4 } }))).toBe(1)
    // dynalite's halved price of a consistent Scan is already the eventually consistent one.
    expect(unitsPerEventualScan(priced({ 'Scan:consistent': { requests: 2, failed: 0, units: 1 } }, true))).toBe(0.5)
    expect(unitsPerEventualScan(priced({}))).toBeNaN()
  })
})

describe('roleFigures', () => {
  it("splits a fleet's tally into the leader's (per its worker-hour) and the followers' average", () => {
    const sample: CostSample = {
      workers: 3,
      leases: 6,
      windowMs: 3_600_000,
      consistentScansPricedAsEventual: false,
      tally: {},
      byWorker: {
        a: {
          'Scan:eventual': { requests: 100, failed: 0, units: 50 },
          UpdateItem: { requests: 10, failed: 0, units: 10 },
        },
        b: {
          'Query:eventual': { requests: 20, failed: 0, units: 10 },
          UpdateItem: { requests: 30, failed: 1, units: 29 },
        },
        c: {
          'Query:eventual': { requests: 40, failed: 0, units: 20 },
          UpdateItem: { requests: 10, failed: 0, units: 10 },
        },
      },
    }
    const { leader, followers } = roleFigures(sample, 'a')
    expect(leader.readsPerWorkerHour).toBe(100)
    expect(leader.readUnitsPerWorkerHour).toBe(50)
    expect(leader.writesPerWorkerHour).toBe(10)
    expect(followers.readsPerWorkerHour).toBe(30)
    expect(followers.readUnitsPerWorkerHour).toBe(15)
    expect(followers.writesPerWorkerHour).toBe(20)
    expect(followers.failedRequests).toBe(1)
  })
})

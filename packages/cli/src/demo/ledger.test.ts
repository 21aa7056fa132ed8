import { describe, expect, it } from 'vitest'
import { DeliveryLedger } from './ledger.js'

describe('DeliveryLedger', () => {
  it('passes when every record arrives once, in order per key', () => {
    const ledger = new DeliveryLedger(6, 2)
    for (const id of [0, 1, 2, 3, 4, 5]) ledger.record(id)
    expect(ledger.report()).toMatchObject({ unique: 6, duplicates: 0, missing: 0, outOfOrder: 0, passed: true })
  })

  it('allows keys to interleave: order is only checked within a key', () => {
    const ledger = new DeliveryLedger(6, 2)
    // key 1 (ids 1, 3, 5) entirely before key 0 (ids 0, 2, 4).
    for (const id of [1, 3, 5, 0, 2, 4]) ledger.record(id)
    expect(ledger.report().passed).toBe(true)
  })

  it('counts a replay of an earlier stretch as duplicates, not disorder', () => {
    const ledger = new DeliveryLedger(8, 2)
    for (const id of [0, 2, 4, 2, 4, 6]) ledger.record(id)
    expect(ledger.report()).toMatchObject({ unique: 4, duplicates: 2, outOfOrder: 0 })
  })

  it('flags a record seen before an earlier record of its key', () => {
    const ledger = new DeliveryLedger(6, 2)
    for (const id of [0, 4, 2]) ledger.record(id)
    const report = ledger.report()
    expect(report.outOfOrder).toBe(2) // 4 skipped 2, then 2 arrived behind 4
    expect(report.passed).toBe(false)
  })

  it('reports missing records and fails', () => {
    const ledger = new DeliveryLedger(5, 1)
    for (const id of [0, 1, 2]) ledger.record(id)
    expect(ledger.report()).toMatchObject({ missing: 2, passed: false })
  })

  it('counts ids outside the run as foreign without failing the run', () => {
    const ledger = new DeliveryLedger(2, 1)
    for (const id of [0, 1, 7, -1]) ledger.record(id)
    expect(ledger.report()).toMatchObject({ foreign: 2, unique: 2, passed: true })
  })
})

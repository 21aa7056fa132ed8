import type { KinesisProducer, UserRecord } from '@kinesis-ts/producer'
import { describe, expect, it } from 'vitest'
import { ProduceTally, formatFailures } from './produce-tally.js'

/** A stand-in with only what the tally calls: each record settles when the test says so. */
function fakeProducer() {
  const pending: { record: UserRecord; resolve: () => void; reject: (error: unknown) => void }[] = []
  let flushes = 0
  const producer = {
    addUserRecord: (record: UserRecord) =>
      new Promise<never>((resolve, reject) => {
        pending.push({ record, resolve: () => resolve(undefined as never), reject })
      }),
    flush: async () => {
      flushes++
    },
  } as unknown as KinesisProducer
  return { producer, pending, flushes: () => flushes }
}

const record = (n: number): UserRecord => ({ partitionKey: `k${n}`, data: `d${n}` })

describe('ProduceTally', () => {
  it('keeps at most `window` records unsettled: the next offer waits for the oldest', async () => {
    const { producer, pending } = fakeProducer()
    const tally = new ProduceTally(producer, 2)
    await tally.offer(record(0))
    await tally.offer(record(1))
    let third = false
    const offering = tally.offer(record(2)).then(() => {
      third = true
    })
    await Promise.resolve()
    await Promise.resolve()
    expect(third).toBe(false)
    expect(pending).toHaveLength(2)
    pending[0]?.resolve()
    await offering
    expect(third).toBe(true)
    expect(pending.map((p) => p.record.partitionKey)).toEqual(['k0', 'k1', 'k2'])
  })

  it('counts successes and failures by the last attempt error code, then by the error code', async () => {
    const { producer, pending, flushes } = fakeProducer()
    const tally = new ProduceTally(producer, 10)
    for (let n = 0; n < 4; n++) await tally.offer(record(n))
    pending[0]?.resolve()
    pending[1]?.reject({ result: { attempts: [{ errorCode: 'Throttled' }, { errorCode: 'Expired' }] } })
    pending[2]?.reject(Object.assign(new Error('bad key'), { code: 'ERR_INVALID_ARGUMENT' }))
    pending[3]?.reject({ result: { attempts: [{ errorCode: 'Expired' }] } })
    const totals = await tally.settled()
    expect(flushes()).toBe(1)
    expect(totals.successful).toBe(1)
    expect(totals.failed).toBe(3)
    expect(Object.fromEntries(totals.failuresByCode)).toEqual({ Expired: 2, ERR_INVALID_ARGUMENT: 1 })
    expect(formatFailures(totals.failuresByCode)).toBe('Expired 2, ERR_INVALID_ARGUMENT 1')
  })
})

import { InvalidArgumentError } from '@kinesis-ts/shared'
import { describe, expect, it } from 'vitest'
import { checkUserRecord } from './validate.js'

const reason = (run: () => unknown): InvalidArgumentError => {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError)
    return error as InvalidArgumentError
  }
  throw new Error('accepted')
}

describe('checkUserRecord with headers', () => {
  it('costs nothing without headers (or with none given): no tags', () => {
    expect(checkUserRecord({ partitionKey: 'k', data: 'abc' }, 1000).tags).toBeUndefined()
    expect(checkUserRecord({ partitionKey: 'k', data: 'abc', headers: {} }, 1000)).toMatchObject({
      tags: undefined,
      bytes: 4,
    })
  })

  it('encodes headers as tags whose bytes count in the record size', () => {
    const checked = checkUserRecord({ partitionKey: 'k', data: 'abc', headers: { h: 'v' } }, 1000)
    // One Tag field: 0x22 len, 0x0a 1 'h', 0x12 1 'v'.
    expect(checked.tags).toHaveLength(8)
    expect(checked.bytes).toBe(4 + 8)
  })

  it('rejects headers without aggregation, naming the field and why', () => {
    const error = reason(() => checkUserRecord({ partitionKey: 'k', data: 'x', headers: { h: 'v' } }, 1000, false))
    expect(error.field).toBe('headers')
    expect(error.message).toMatch(/aggregationEnabled/)
    // Without headers, aggregation off is fine.
    expect(checkUserRecord({ partitionKey: 'k', data: 'x' }, 1000, false).tags).toBeUndefined()
  })

  it('counts header bytes, and the aggregate they need, against maxUserRecordSize', () => {
    const headers = { h: 'v'.repeat(100) }
    expect(
      reason(() => checkUserRecord({ partitionKey: 'k', data: 'x'.repeat(950) }, 1000, true, headers)).message,
    ).toMatch(/data \+ partitionKey \+ headers must be at most maxUserRecordSize \(1000 bytes\)/)
    // Fits as data + key + headers (938 bytes) but not with its aggregate's framing around it.
    expect(
      reason(() => checkUserRecord({ partitionKey: 'k', data: 'x'.repeat(830) }, 950, true, headers)).message,
    ).toMatch(/inside their aggregate must be at most maxUserRecordSize \(950 bytes\), got 9\d\d bytes/)
  })

  it('passes header checks through: empty keys and non-string values are refused', () => {
    expect(reason(() => checkUserRecord({ partitionKey: 'k', data: 'x', headers: { '': 'v' } }, 1000)).field).toBe(
      'headers key',
    )
    const bad = { h: 1 } as unknown as Record<string, string>
    expect(reason(() => checkUserRecord({ partitionKey: 'k', data: 'x', headers: bad }, 1000)).field).toBe('headers.h')
  })
})

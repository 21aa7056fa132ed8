import { describe, expect, it } from 'vitest'
import { kindOf } from './dynamodb-tally.js'
import { roundRobin } from './lease-seed.js'

describe('roundRobin', () => {
  it('gives shard i to worker i mod n, every worker its fair share', () => {
    expect(roundRobin(['s0', 's1', 's2', 's3', 's4'], ['a', 'b'])).toEqual(
      new Map([
        ['a', ['s0', 's2', 's4']],
        ['b', ['s1', 's3']],
      ]),
    )
  })
})

describe('kindOf', () => {
  it('names reads by consistency (eventual unless ConsistentRead is true) and writes by command', () => {
    expect(kindOf('ScanCommand', true)).toBe('Scan:consistent')
    expect(kindOf('ScanCommand', false)).toBe('Scan:eventual')
    expect(kindOf('GetItemCommand', undefined)).toBe('GetItem:eventual')
    expect(kindOf('UpdateItemCommand', undefined)).toBe('UpdateItem')
    expect(kindOf('DescribeTableCommand', undefined)).toBe('DescribeTable')
  })
})

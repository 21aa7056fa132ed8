import { createHash } from 'node:crypto'
import fc from 'fast-check'
import protobuf from 'protobufjs'
import { describe, expect, it } from 'vitest'
import { InvalidArgumentError } from '../errors.js'
import { awsKinesisAgg } from '../test-support/vectors.js'
import { AggregateBuilder, type AggregationInput, encodeAggregated, soleAggregateSize } from './aggregate-builder.js'
import { decodeAggregated } from './decode.js'
import { AGGREGATED_RECORD_PROTO } from './schema.js'
import { HEADER_LIMITS, encodeHeaderTags } from './tags.js'

const tagged = (partitionKey: string, data: string, headers?: Record<string, string>): AggregationInput => ({
  partitionKey,
  data: Buffer.from(data),
  tags: headers === undefined ? undefined : encodeHeaderTags(headers),
})

const records = [
  tagged('k1', 'first', { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', a: 'b' }),
  tagged('k2', 'second'),
  tagged('k1', 'third', { 'clé 🔑': 'värde', empty: '' }),
]

describe('record headers as KPL tags', () => {
  it('round-trip through our decoder, and records without tags read as no headers', () => {
    const decoded = decodeAggregated(encodeAggregated(records))
    expect(decoded.map((r) => ({ ...r.headers }))).toEqual([
      { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', a: 'b' },
      {},
      { 'clé 🔑': 'värde', empty: '' },
    ])
    expect(decoded.map((r) => Buffer.from(r.data).toString())).toEqual(['first', 'second', 'third'])
  })

  it('are Tag messages as protobufjs reads them from the proto2 schema', () => {
    const bytes = encodeAggregated(records)
    const type = protobuf.parse(AGGREGATED_RECORD_PROTO).root.lookupType('AggregatedRecord')
    const message = type.toObject(type.decode(bytes.subarray(4, bytes.length - 16)), { longs: Number })
    expect(message.records[0].tags).toEqual([
      { key: 'traceparent', value: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
      { key: 'a', value: 'b' },
    ])
    expect(message.records[1].tags ?? []).toEqual([])
    expect(message.records[2].tags).toEqual([
      { key: 'clé 🔑', value: 'värde' },
      { key: 'empty', value: '' },
    ])
  })

  it('leave the user records intact for aws-kinesis-agg, which ignores tags (checksums on)', () => {
    for (const input of [records, [records[0]!]]) {
      let out: { partitionKey: string; data: string; subSequenceNumber?: number }[] = []
      awsKinesisAgg.deaggregateSync(
        { partitionKey: 'a', data: encodeAggregated(input).toString('base64') },
        true,
        (error, decoded) => {
          if (error) throw error
          out = decoded ?? []
        },
      )
      expect(out.map((r) => [r.partitionKey, Buffer.from(r.data, 'base64').toString(), r.subSequenceNumber])).toEqual(
        input.map((r, i) => [r.partitionKey, Buffer.from(r.data).toString(), i]),
      )
    }
  })

  it('count in the exact size, to the byte', () => {
    const header = fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), fc.string({ maxLength: 40 }))
    const arbitrary = fc.record({
      partitionKey: fc.constantFrom('a', 'b', 'clé'),
      data: fc.uint8Array({ maxLength: 300 }),
      headers: fc.option(fc.array(header, { maxLength: 5 }), { nil: undefined }),
    })
    fc.assert(
      fc.property(fc.array(arbitrary, { minLength: 1, maxLength: 20 }), (inputs) => {
        const builder = new AggregateBuilder()
        const expected: Record<string, string>[] = []
        for (const input of inputs) {
          const headers = input.headers === undefined ? undefined : Object.fromEntries(input.headers)
          const record = {
            partitionKey: input.partitionKey,
            data: input.data,
            tags: headers && encodeHeaderTags(headers),
          }
          const predicted = builder.sizeWith(record)
          builder.add(record)
          expect(builder.size).toBe(predicted)
          expected.push(headers ?? {})
        }
        const bytes = builder.build()
        expect(bytes.length).toBe(builder.size)
        expect(decodeAggregated(bytes).map((r) => ({ ...r.headers }))).toEqual(expected)
      }),
      { numRuns: 200 },
    )
  })

  it('soleAggregateSize is the size of an aggregate of that record alone', () => {
    for (const [record, ehk] of [
      [tagged('clé', 'x'.repeat(200), { a: 'b'.repeat(300) }), undefined],
      [{ ...tagged('k', 'data', { t: 'v' }), explicitHashKey: '12345' }, '12345'],
    ] as const) {
      const alone = encodeAggregated([record])
      expect(soleAggregateSize(record, Buffer.byteLength(record.partitionKey), ehk && Buffer.byteLength(ehk))).toBe(
        alone.length,
      )
    }
  })

  it('tryAdd refuses a record whose tags would cross the byte limit', () => {
    const builder = new AggregateBuilder()
    const plain = tagged('k', 'x')
    const withTags = tagged('k', 'x', { key: 'v'.repeat(50) })
    const limit = builder.sizeWith(plain) + 10
    expect(builder.tryAdd(withTags, limit)).toBe(false)
    expect(builder.tryAdd(plain, limit)).toBe(true)
  })

  it('are checked: an object of non-empty keys to string values, at most HEADER_LIMITS.maxHeaders', () => {
    expect(encodeHeaderTags({})).toBeUndefined()
    const fails = (headers: unknown) => {
      try {
        encodeHeaderTags(headers as Record<string, string>)
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidArgumentError)
        return (error as InvalidArgumentError).message
      }
      throw new Error('accepted')
    }
    expect(fails('x')).toMatch(/headers.*object/)
    expect(fails({ '': 'v' })).toMatch(/headers key.*non-empty/)
    expect(fails({ k: 1 })).toMatch(/headers\.k.*string/)
    const many = Object.fromEntries(Array.from({ length: HEADER_LIMITS.maxHeaders + 1 }, (_, i) => [`h${i}`, '']))
    expect(fails(many)).toMatch(`at most ${HEADER_LIMITS.maxHeaders} headers`)
  })

  it('a header named __proto__ is an ordinary header', () => {
    const bytes = encodeAggregated([tagged('k', 'x', JSON.parse('{"__proto__":"p","b":"c"}'))])
    const [record] = decodeAggregated(bytes)
    expect(Object.keys(record!.headers)).toEqual(['__proto__', 'b'])
    expect(record!.headers.__proto__).toBe('p')
  })

  it('a tag without its required key makes the aggregate corrupt: one plain record', () => {
    const root = protobuf.parse(AGGREGATED_RECORD_PROTO.replace('required string key', 'optional string key')).root
    const type = root.lookupType('AggregatedRecord')
    const body = type
      .encode(
        type.fromObject({
          partitionKeyTable: ['k'],
          records: [{ partitionKeyIndex: 0, data: Buffer.from('x'), tags: [{ value: 'v' }] }],
        }),
      )
      .finish()
    const bad = Buffer.concat([Buffer.from([0xf3, 0x89, 0x9a, 0xc2]), body, createHash('md5').update(body).digest()])
    const decoded = decodeAggregated(bad)
    expect(decoded).toHaveLength(1)
    expect(decoded[0]!.aggregated).toBe(false)
  })
})

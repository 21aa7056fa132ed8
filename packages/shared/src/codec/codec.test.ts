import { createHash } from 'node:crypto'
import fc from 'fast-check'
import protobuf from 'protobufjs'
import { describe, expect, it } from 'vitest'
import { awsKinesisAgg, loadAggregationVectors } from '../test-support/vectors.js'
import { AggregateBuilder, type AggregationInput, encodeAggregated } from './aggregate-builder.js'
import { decodeAggregated, isAggregated } from './decode.js'
import type { KeySlot } from './key-table.js'
import { AGGREGATED_RECORD_PROTO, AGGREGATE_OVERHEAD } from './schema.js'

const { vectors, corrupt } = loadAggregationVectors()
const b64 = (s: string) => Buffer.from(s, 'base64')

function viaAwsKinesisAgg(data: Buffer, partitionKey = 'outer') {
  let out: { partitionKey: string; explicitPartitionKey?: string; data: string; subSequenceNumber?: number }[] = []
  awsKinesisAgg.deaggregateSync({ partitionKey, data: data.toString('base64') }, true, (error, records) => {
    if (error) throw error
    out = records ?? []
  })
  return out
}

describe('decodeAggregated: interop vectors', () => {
  it.each(vectors.map((v) => [v.name, v] as const))('%s decodes to exactly its user records', (_name, vector) => {
    const decoded = decodeAggregated(b64(vector.aggregated.data), vector.aggregated)
    expect(decoded).toHaveLength(vector.userRecords.length)
    decoded.forEach((record, i) => {
      const expected = vector.userRecords[i]!
      expect(record.partitionKey).toBe(expected.partitionKey)
      expect(record.explicitHashKey).toBe(expected.explicitHashKey)
      expect(Buffer.from(record.data).toString('base64')).toBe(expected.data)
      expect(record.subSequenceNumber).toBe(i)
      expect(record.aggregated).toBe(true)
      expect({ ...record.headers }).toEqual(expected.headers ?? {})
    })
  })

  it.each(corrupt.map((c) => [c.name, c] as const))('corrupt %s comes back as one plain record', (_name, vector) => {
    const bytes = b64(vector.data)
    const decoded = decodeAggregated(bytes, { partitionKey: 'outer-pk', explicitHashKey: '42' })
    expect(decoded).toEqual([
      {
        partitionKey: 'outer-pk',
        explicitHashKey: '42',
        data: bytes,
        subSequenceNumber: 0,
        aggregated: false,
        headers: {},
      },
    ])
    expect(isAggregated(bytes)).toBe(vector.name === 'valid-checksum-garbage-protobuf')
  })

  it('passes non-aggregated data through untouched', () => {
    const data = Buffer.from('just some bytes')
    expect(decodeAggregated(data, { partitionKey: 'k' })).toEqual([
      { partitionKey: 'k', explicitHashKey: undefined, data, subSequenceNumber: 0, aggregated: false, headers: {} },
    ])
  })

  it('accepts a plain Uint8Array as well as a Buffer', () => {
    const encoded = encodeAggregated([{ partitionKey: 'a', data: new Uint8Array([1, 2]) }])
    const copy = new Uint8Array(encoded)
    expect(decodeAggregated(copy)[0]?.data).toEqual(Buffer.from([1, 2]))
  })

  it('treats an aggregate whose key index is out of range as corrupt, not as a crash', () => {
    const builder = new AggregateBuilder()
    builder.add({ partitionKey: 'k', data: Buffer.from('x') })
    const good = builder.build()
    // Re-encode with protobufjs pointing at a partition key that does not exist.
    const root = protobuf.parse(AGGREGATED_RECORD_PROTO).root
    const type = root.lookupType('AggregatedRecord')
    const body = type
      .encode(
        type.fromObject({ partitionKeyTable: ['k'], records: [{ partitionKeyIndex: 5, data: Buffer.from('x') }] }),
      )
      .finish()
    const bad = Buffer.concat([good.subarray(0, 4), body, createMd5(body)])
    expect(decodeAggregated(bad)).toHaveLength(1)
    expect(decodeAggregated(bad)[0]?.aggregated).toBe(false)
  })
})

function createMd5(body: Uint8Array): Buffer {
  return createHash('md5').update(body).digest()
}

const record = (partitionKey: string, data: string | Uint8Array, explicitHashKey?: string): AggregationInput => ({
  partitionKey,
  data: typeof data === 'string' ? Buffer.from(data) : data,
  ...(explicitHashKey === undefined ? {} : { explicitHashKey }),
})

describe('encodeAggregated', () => {
  const cases: [string, AggregationInput[]][] = [
    ['explicit hash key index 0', [record('p', 'one', '0'), record('q', 'two', '0')]],
    ['mixed explicit and implicit keys', [record('p', 'a', '123'), record('q', 'b'), record('r', 'c', '456')]],
    ['multi-byte keys', [record('clé-é', 'x'), record('键-🔑', 'y'), record('clé-é', 'z')]],
    ['empty data', [record('p', ''), record('p', new Uint8Array(0))]],
    ['a single record', [record('only', 'data')]],
  ]

  it.each(cases)('%s round-trips through our decoder', (_name, input) => {
    const decoded = decodeAggregated(encodeAggregated(input))
    expect(decoded.map((r) => [r.partitionKey, r.explicitHashKey, Buffer.from(r.data).toString('hex')])).toEqual(
      input.map((r) => [r.partitionKey, r.explicitHashKey, Buffer.from(r.data).toString('hex')]),
    )
    expect(decoded.map((r) => r.subSequenceNumber)).toEqual(input.map((_, i) => i))
  })

  it.each(cases)('%s round-trips through aws-kinesis-agg deaggregateSync (checksums on)', (_name, input) => {
    const decoded = viaAwsKinesisAgg(encodeAggregated(input))
    expect(decoded).toHaveLength(input.length)
    decoded.forEach((out, i) => {
      const expected = input[i]!
      expect(out.partitionKey).toBe(expected.partitionKey)
      expect(out.data).toBe(Buffer.from(expected.data).toString('base64'))
      expect(out.subSequenceNumber).toBe(i)
      // aws-kinesis-agg reads an absent index as 0, so only records that have a key are comparable.
      if (expected.explicitHashKey !== undefined) expect(out.explicitPartitionKey).toBe(expected.explicitHashKey)
    })
  })

  it('keeps explicit_hash_key_index = 0 on the wire (proto2 presence), as protobufjs reads it', () => {
    const bytes = encodeAggregated([record('p', 'x', '7')])
    const type = protobuf.parse(AGGREGATED_RECORD_PROTO).root.lookupType('AggregatedRecord')
    const message = type.toObject(type.decode(bytes.subarray(4, bytes.length - 16)), { longs: Number })
    expect(message.records[0]).toHaveProperty('explicitHashKeyIndex', 0)
    expect(message.explicitHashKeyTable).toEqual(['7'])
  })

  it('reuses key-table entries for repeated keys', () => {
    const bytes = encodeAggregated([record('k', 'a'), record('k', 'b'), record('j', 'c'), record('k', 'd')])
    const type = protobuf.parse(AGGREGATED_RECORD_PROTO).root.lookupType('AggregatedRecord')
    const message = type.toObject(type.decode(bytes.subarray(4, bytes.length - 16)), { longs: Number })
    expect(message.partitionKeyTable).toEqual(['k', 'j'])
    expect(message.records.map((r: { partitionKeyIndex: number }) => r.partitionKeyIndex)).toEqual([0, 0, 1, 0])
  })
})

describe("AggregateBuilder with the caller's key slots", () => {
  const slot = (key: string): KeySlot => ({ key, byteLength: Buffer.byteLength(key), generation: 0, index: 0 })
  const keysOf = (builder: AggregateBuilder) =>
    decodeAggregated(builder.build(), { partitionKey: 'outer' }).map((r) => [r.partitionKey, r.data[0]])

  it('encodes what it encodes without them, to the byte', () => {
    const keys = ['a', 'clé', 'a', '🔑', 'clé']
    const slots = new Map(keys.map((key) => [key, slot(key)]))
    const withSlots = new AggregateBuilder()
    const without = new AggregateBuilder()
    keys.forEach((key, i) => {
      withSlots.add({ partitionKey: key, partitionKeySlot: slots.get(key), data: new Uint8Array([i]) })
      without.add({ partitionKey: key, data: new Uint8Array([i]) })
    })
    expect(withSlots.size).toBe(without.size)
    expect(withSlots.build()).toEqual(without.build())
  })

  it("keeps each aggregate's indexes apart when one slot goes into several builders", () => {
    const shared = slot('shared')
    const other = slot('other')
    const a = new AggregateBuilder()
    const b = new AggregateBuilder()
    // b puts 'other' at index 0 first, then 'shared', which a already holds at index 0.
    a.add({ partitionKey: 'shared', partitionKeySlot: shared, data: new Uint8Array([1]) })
    b.add({ partitionKey: 'other', partitionKeySlot: other, data: new Uint8Array([2]) })
    b.add({ partitionKey: 'shared', partitionKeySlot: shared, data: new Uint8Array([3]) })
    a.add({ partitionKey: 'shared', partitionKeySlot: shared, data: new Uint8Array([4]) })
    expect(keysOf(a)).toEqual([
      ['shared', 1],
      ['shared', 4],
    ])
    expect(keysOf(b)).toEqual([
      ['other', 2],
      ['shared', 3],
    ])
  })
})

describe('AggregateBuilder size accounting', () => {
  it('reports the exact size before and after each add, counting new table entries', () => {
    const builder = new AggregateBuilder()
    expect(builder.size).toBe(AGGREGATE_OVERHEAD)
    const inputs = [record('k', 'abc'), record('k', 'defg'), record('ü', '', '0'), record('x'.repeat(200), 'z', '0')]
    for (const input of inputs) {
      const predicted = builder.sizeWith(input)
      builder.add(input)
      expect(builder.size).toBe(predicted)
      expect(builder.build().length).toBe(predicted)
    }
  })

  it('fills to the byte: tryAdd accepts a record that lands exactly on the limit and refuses one byte more', () => {
    const builder = new AggregateBuilder()
    builder.add(record('k', 'first'))
    const probe = record('k', 'x'.repeat(100))
    const exact = builder.sizeWith(probe)
    expect(builder.tryAdd(record('k', 'x'.repeat(101)), exact)).toBe(false)
    expect(builder.tryAdd(probe, exact)).toBe(true)
    expect(builder.build().length).toBe(exact)
  })

  it('honours the record-count limit', () => {
    const builder = new AggregateBuilder()
    expect(builder.tryAdd(record('k', 'a'), 1_000, 2)).toBe(true)
    expect(builder.tryAdd(record('k', 'b'), 1_000, 2)).toBe(true)
    expect(builder.tryAdd(record('k', 'c'), 1_000, 2)).toBe(false)
    expect(builder.count).toBe(2)
  })

  it('counts varint growth when data length crosses 127 and 16383 bytes', () => {
    for (const length of [127, 128, 16_383, 16_384, 2_097_151, 2_097_152]) {
      const builder = new AggregateBuilder()
      const input = record('k', Buffer.alloc(length, 1))
      expect(builder.sizeWith(input)).toBe(encodeAggregated([input]).length)
    }
  })

  it('is reusable after reset()', () => {
    const builder = new AggregateBuilder()
    builder.add(record('a', 'b'))
    builder.reset()
    expect(builder.count).toBe(0)
    builder.add(record('c', 'd'))
    expect(decodeAggregated(builder.build())[0]?.partitionKey).toBe('c')
  })
})

const arbitraryRecord = fc.record({
  partitionKey: fc.string({ minLength: 1, maxLength: 256, unit: 'grapheme' }),
  explicitHashKey: fc.option(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }).map(String), { nil: undefined }),
  data: fc.uint8Array({ maxLength: 300 }),
})

describe('codec properties', () => {
  it('decode(encode(records)) gives back the records, in order', () => {
    fc.assert(
      fc.property(fc.array(arbitraryRecord, { minLength: 1, maxLength: 40 }), (records) => {
        const decoded = decodeAggregated(encodeAggregated(records))
        expect(decoded).toHaveLength(records.length)
        decoded.forEach((out, i) => {
          expect(out.partitionKey).toBe(records[i]!.partitionKey)
          expect(out.explicitHashKey).toBe(records[i]!.explicitHashKey)
          expect(Buffer.from(out.data).equals(Buffer.from(records[i]!.data))).toBe(true)
          expect(out.subSequenceNumber).toBe(i)
        })
      }),
      { numRuns: 300 },
    )
  })

  it('the computed size always equals the encoded length', () => {
    fc.assert(
      fc.property(fc.array(arbitraryRecord, { minLength: 1, maxLength: 40 }), (records) => {
        const builder = new AggregateBuilder()
        for (const r of records) {
          const predicted = builder.sizeWith(r)
          builder.add(r)
          expect(builder.size).toBe(predicted)
        }
        expect(builder.build().length).toBe(builder.size)
      }),
      { numRuns: 300 },
    )
  })

  it('aws-kinesis-agg reads back what we encode', () => {
    fc.assert(
      fc.property(fc.array(arbitraryRecord, { minLength: 1, maxLength: 20 }), (records) => {
        const decoded = viaAwsKinesisAgg(encodeAggregated(records))
        expect(decoded.map((r) => [r.partitionKey, r.data])).toEqual(
          records.map((r) => [r.partitionKey, Buffer.from(r.data).toString('base64')]),
        )
      }),
      { numRuns: 100 },
    )
  })

  it('decoding arbitrary bytes behind the magic never throws and never loses the bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (tail) => {
        const bytes = Buffer.concat([Buffer.from([0xf3, 0x89, 0x9a, 0xc2]), tail])
        const decoded = decodeAggregated(bytes)
        expect(decoded).toHaveLength(1)
        expect(Buffer.from(decoded[0]!.data).equals(bytes)).toBe(true)
      }),
      { numRuns: 500 },
    )
  })
})

describe('AggregateBuilder with inputs that write their own data', () => {
  /** An input whose bytes live in `pool` at `offset`; reading its `data` fails the test. */
  const pooled = (partitionKey: string, pool: Uint8Array, offset: number, length: number): AggregationInput => ({
    partitionKey,
    get data(): Uint8Array {
      throw new Error('data read although writeDataTo was given')
    },
    dataLength: length,
    writeDataTo: (out, at) => {
      out.set(pool.subarray(offset, offset + length), at)
      return at + length
    },
  })

  it('encodes the same bytes as inputs holding their data, across reuse of the builder', () => {
    const pool = Uint8Array.from({ length: 600 }, (_, i) => i % 251)
    const builder = new AggregateBuilder()
    for (const lengths of [[0, 1, 200], [300, 5], [599]]) {
      let offset = 0
      const plain: AggregationInput[] = []
      for (const [i, length] of lengths.entries()) {
        expect(builder.tryAdd(pooled(`k${i}`, pool, offset, length), 1_000_000)).toBe(true)
        plain.push({ partitionKey: `k${i}`, data: pool.slice(offset, offset + length) })
        offset += length
      }
      expect(builder.size).toBe(encodeAggregated(plain).length)
      expect(builder.build()).toEqual(encodeAggregated(plain))
      builder.reset()
    }
  })
})

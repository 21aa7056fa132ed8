import { describe, expect, it } from 'vitest'
import { Workload } from '../workload.js'
import { evenShards } from './endpoint.js'
import { DeliveryLedger, md5HashKey } from './ledger.js'

const shards = evenShards(4)
const workload = new Workload({ total: 100, bytes: 16, keys: 0 })
/** A key whose MD5 falls in shard `shard` (keys of the form k0, k1, ...). */
const keyOn = (shard: number, skip = 0) => {
  let found = 0
  for (let i = 0; ; i++) {
    const key = `k${i}`
    const hashKey = md5HashKey(key)
    if (shards[shard]!.startingHashKey <= hashKey && hashKey <= shards[shard]!.endingHashKey && found++ === skip) {
      return key
    }
  }
}
const user = (partitionKey: string, id: number, explicitHashKey?: string) => ({
  partitionKey,
  explicitHashKey,
  data: workload.dataOf(id),
})

describe('DeliveryLedger', () => {
  it('hashes keys as Kinesis does: the MD5 of the key read as a big-endian 128-bit number', () => {
    expect(md5HashKey('a')).toBe(0x0cc175b9c0f1b6a831c399e269772661n)
    expect(md5HashKey('')).toBe(0xd41d8cd98f00b204e9800998ecf8427en)
  })

  it('splits the hash-key space into even, contiguous shard ranges', () => {
    expect(shards.map((s) => s.startingHashKey)).toEqual([0n, 2n ** 126n, 2n ** 127n, 3n * 2n ** 126n])
    expect(shards.map((s) => s.endingHashKey)).toEqual([
      2n ** 126n - 1n,
      2n ** 127n - 1n,
      3n * 2n ** 126n - 1n,
      2n ** 128n - 1n,
    ])
    expect(shards[1]!.shardId).toBe('shardId-000000000001')
  })

  it('counts a record that arrives after a later record of its key as an order violation, once', () => {
    const key = keyOn(0)
    const ledger = new DeliveryLedger(100, shards)
    ledger.accept(0, [user(key, 0), user(key, 2)], 100)
    ledger.accept(0, [user(key, 1)], 50)
    ledger.accept(0, [user(key, 3)], 50)
    const report = ledger.report()
    expect(report.orderViolations).toBe(1)
    expect(report.delivered).toBe(4)
  })

  it('keeps order per key: interleaved keys each in order are no violation', () => {
    const a = keyOn(0)
    const b = keyOn(0, 1)
    const ledger = new DeliveryLedger(100, shards)
    ledger.accept(0, [user(b, 5), user(a, 1)], 100)
    ledger.accept(0, [user(a, 2), user(b, 6)], 100)
    expect(ledger.report().orderViolations).toBe(0)
  })

  it('counts a record accepted twice as a duplicate, not as a delivery or an order violation', () => {
    const key = keyOn(2)
    const ledger = new DeliveryLedger(100, shards)
    ledger.accept(2, [user(key, 7), user(key, 8)], 100)
    ledger.accept(2, [user(key, 7)], 50)
    const report = ledger.report()
    expect(report).toMatchObject({ delivered: 2, duplicates: 1, orderViolations: 0 })
    expect([...report.accepted.subarray(0, 2)]).toEqual([0b1000_0000, 0b0000_0001])
  })

  it('counts user records on a shard that does not own their hash key, per shard', () => {
    const ledger = new DeliveryLedger(100, shards)
    // An aggregate on shard 0 holding one record of its own and two of shard 3's.
    ledger.accept(0, [user(keyOn(0), 0), user(keyOn(3), 1), user(keyOn(3, 1), 2)], 300)
    const report = ledger.report()
    expect(report.wrongShard).toBe(2)
    expect(report.shards.map((s) => s.wrongShard)).toEqual([2, 0, 0, 0])
    expect(report.shards[0]).toMatchObject({ kinesisRecords: 1, userRecords: 3, meteredBytes: 300 })
    expect(report.delivered).toBe(3)
  })

  it('routes by the explicit hash key when there is one, as Kinesis does', () => {
    const ledger = new DeliveryLedger(100, shards)
    const onShard1 = (2n ** 126n + 5n).toString()
    ledger.accept(1, [user(keyOn(3), 0, onShard1)], 100)
    ledger.accept(3, [user(keyOn(0), 1, onShard1)], 100)
    expect(ledger.report().shards.map((s) => s.wrongShard)).toEqual([0, 0, 0, 1])
  })

  it('counts bytes it did not write, or ids beyond the run, as foreign', () => {
    const ledger = new DeliveryLedger(10, shards)
    ledger.accept(0, [{ partitionKey: keyOn(0), explicitHashKey: undefined, data: Buffer.alloc(16, 1) }], 16)
    ledger.accept(0, [user(keyOn(0), 50)], 16)
    expect(ledger.report()).toMatchObject({ foreign: 2, delivered: 0 })
  })

  it('adds one timeline point per request that wrote something: time, new deliveries, metered bytes', () => {
    const key = keyOn(1)
    const ledger = new DeliveryLedger(100, shards)
    ledger.accept(1, [user(key, 0), user(key, 1)], 120)
    ledger.accept(1, [user(key, 2)], 60)
    ledger.commit(1000)
    ledger.commit(1500)
    ledger.accept(1, [user(key, 2)], 60)
    ledger.commit(2000)
    expect(ledger.report().timeline).toEqual([1000, 3, 180, 2000, 0, 60])
  })
})

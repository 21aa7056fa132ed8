import type { KinesisClientRecord } from '../types.js'
import { fingerprint32 } from './fingerprint.js'

/**
 * The lane of each record: the FarmHash Fingerprint32 of its partition key modulo `lanes`, so one key always
 * lands in one lane (per-key order) while a hot shard's keys spread over several threads.
 */
export function lanesOf(records: readonly KinesisClientRecord[], lanes: number): number[] {
  if (lanes === 1) return new Array<number>(records.length).fill(0)
  const cache = new Map<string, number>()
  return records.map((record) => {
    let lane = cache.get(record.partitionKey)
    if (lane === undefined) {
      lane = fingerprint32(record.partitionKey) % lanes
      cache.set(record.partitionKey, lane)
    }
    return lane
  })
}

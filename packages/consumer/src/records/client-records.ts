import { decodeAggregated, hashKeyOf } from '@kinesis-ts/shared'
import type { RawKinesisRecord } from '../seams.js'
import type { ExtendedSequenceNumber, KinesisClientRecord } from '../types.js'
import { compareExtended } from './sequence.js'

export interface HashRange {
  readonly start: bigint
  readonly end: bigint
}

/**
 * Turns service records into user records: KPL aggregates are split (sub-sequence numbers from 0),
 * sub-records whose hash key falls outside the shard's range are dropped as the Java KCL does (the
 * aggregate was stored under its outer key, and the KCL only hands a shard's processor keys of that
 * shard), and records at or below `after` (the checkpoint resumed from) are skipped.
 */
export function toClientRecords(
  raw: readonly RawKinesisRecord[],
  range: HashRange | undefined,
  after: ExtendedSequenceNumber | undefined,
): KinesisClientRecord[] {
  const out: KinesisClientRecord[] = []
  for (const record of raw) {
    const users = decodeAggregated(record.data, {
      partitionKey: record.partitionKey,
      explicitHashKey: record.explicitHashKey,
    })
    for (const user of users) {
      const client: KinesisClientRecord = {
        data: user.data,
        partitionKey: user.partitionKey,
        sequenceNumber: record.sequenceNumber,
        subSequenceNumber: user.subSequenceNumber,
        approximateArrivalTimestamp: record.approximateArrivalTimestamp,
        aggregated: user.aggregated,
        headers: user.headers,
      }
      if (user.explicitHashKey !== undefined) client.explicitHashKey = user.explicitHashKey
      if (after !== undefined && compareExtended(client, after) <= 0) continue
      if (user.aggregated && range !== undefined && !inRange(user.explicitHashKey, user.partitionKey, range)) continue
      out.push(client)
    }
  }
  return out
}

function inRange(explicitHashKey: string | undefined, partitionKey: string, range: HashRange): boolean {
  let hashKey: bigint
  try {
    hashKey = explicitHashKey === undefined ? hashKeyOf(partitionKey) : BigInt(explicitHashKey)
  } catch {
    return true
  }
  return hashKey >= range.start && hashKey <= range.end
}

export function dataBytes(records: readonly KinesisClientRecord[]): number {
  let bytes = 0
  for (const record of records) bytes += record.data.byteLength
  return bytes
}

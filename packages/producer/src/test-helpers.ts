// Fixtures for the producer's unit tests (not exported by the package).
import { hashKeyOf } from '@kinesis-ts/shared'
import type { PendingUserRecord } from './pending.js'
import type { StreamTarget } from './stream-target.js'
import type { UserRecordResult } from './types.js'

export const testTarget = { key: 'name:s', label: 's' } as StreamTarget

export interface TestUser extends PendingUserRecord {
  /** What the promise of the record settled with, once it did. */
  outcome: { result?: UserRecordResult; error?: unknown } | undefined
}

/** A pending user record of `size` data bytes (the data holds `tag` when given). */
export function testUser(
  partitionKey: string,
  size: number,
  options: { explicitHashKey?: string; arrivedAt?: number; tag?: string; target?: StreamTarget } = {},
): TestUser {
  const data = new Uint8Array(size).fill(7)
  if (options.tag !== undefined) data.set(Buffer.from(options.tag).subarray(0, size))
  const user: TestUser = {
    source: { partitionKey, data },
    partitionKey,
    explicitHashKey: options.explicitHashKey,
    hashKey: options.explicitHashKey === undefined ? hashKeyOf(partitionKey) : BigInt(options.explicitHashKey),
    data,
    bytes: size + Buffer.byteLength(partitionKey),
    target: options.target ?? testTarget,
    arrivedAt: options.arrivedAt ?? 0,
    generation: 0,
    attempts: undefined,
    settled: false,
    outcome: undefined,
    resolve: (result) => {
      user.outcome = { result }
    },
    reject: (error) => {
      user.outcome = { error }
    },
  }
  return user
}

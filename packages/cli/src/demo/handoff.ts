import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { sleep } from '@kinesis-ts/shared'
import { leasesByOwner, readLeases } from './lease-watch.js'

export interface HandoffResult {
  /** Open leases the stopping worker held. */
  readonly shards: number
  /** From the start of the graceful shutdown until the other worker owned all of them. */
  readonly ms: number
}

/**
 * Times a graceful handoff as an operator would see it in the lease table: from the moment
 * `stop()` is called until `to` owns every open lease that `from` held.
 */
export async function measureHandoff(
  dynamodb: DynamoDBClient,
  tableName: string,
  from: string,
  to: string,
  stop: () => Promise<void>,
  signal: AbortSignal,
  timeoutMs = 60_000,
): Promise<HandoffResult> {
  const held = leasesByOwner(await readLeases(dynamodb, tableName, signal)).get(from) ?? []
  const startedAt = performance.now()
  const stopping = stop()
  for (;;) {
    const leases = await readLeases(dynamodb, tableName, signal)
    const taken = leasesByOwner(leases).get(to) ?? []
    // A shard that ended meanwhile needs no new owner.
    const open = new Set(leases.filter((lease) => lease.checkpoint !== 'SHARD_END').map((lease) => lease.shardId))
    if (held.every((shard) => taken.includes(shard) || !open.has(shard))) break
    if (performance.now() - startedAt > timeoutMs) {
      throw new Error(`${to} did not take ${from}'s leases within ${timeoutMs} ms`)
    }
    await sleep(25, signal)
  }
  const ms = performance.now() - startedAt
  await stopping
  return { shards: held.length, ms }
}

/**
 * A lease table as a balanced fleet leaves it: one lease per shard, owners round-robin over the workers,
 * checkpoint LATEST, in the Java KCL's item format. At the defaults balancing moves one lease per taker
 * round (20 s), so letting 8 workers spread 64 leases themselves would take minutes per run; a worker
 * takes the leases that name it at its first lease scan.
 */
import { BatchWriteItemCommand, type DynamoDBClient, type WriteRequest } from '@aws-sdk/client-dynamodb'
import type { Shard } from '@aws-sdk/client-kinesis'
import { ensureLeaseTable } from '@kinesis-ts/consumer/internals'

/** Which shards each worker is seeded with: shard i goes to worker i mod n. */
export function roundRobin(shardIds: readonly string[], workerIds: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>(workerIds.map((id) => [id, []]))
  shardIds.forEach((shardId, i) => out.get(workerIds[i % workerIds.length]!)!.push(shardId))
  return out
}

function leaseItem(shard: Shard, owner: string): WriteRequest {
  return {
    PutRequest: {
      Item: {
        leaseKey: { S: shard.ShardId! },
        leaseOwner: { S: owner },
        leaseCounter: { N: '1' },
        checkpoint: { S: 'LATEST' },
        checkpointSubSequenceNumber: { N: '0' },
        ownerSwitchesSinceCheckpoint: { N: '0' },
        startingHashKey: { S: shard.HashKeyRange!.StartingHashKey! },
        endingHashKey: { S: shard.HashKeyRange!.EndingHashKey! },
      },
    },
  }
}

/**
 * The table shape a fleet on these options measures: with `clientVersionConfig` (3.x, or a migration)
 * the Java 3.x table with the LeaseOwnerToLeaseKeyIndex; without it a Java 2.x table (no index), on which
 * the default options run the 2.x protocol — what the 2.x figures claim to measure. (On a table with the
 * index the default options would run 3.x.)
 */
export function leaseTableShapeFor(options: { readonly clientVersionConfig?: unknown } | undefined): {
  readonly leaseOwnerIndex: boolean
} {
  return { leaseOwnerIndex: options?.clientVersionConfig !== undefined }
}

/**
 * Creates the table with the consumer's own table creation (shaped by `leaseTableShapeFor`) and writes
 * the leases; returns each worker's shards.
 */
export async function seedLeaseTable(
  dynamodb: DynamoDBClient,
  tableName: string,
  shards: readonly Shard[],
  workerIds: readonly string[],
  shape: { readonly leaseOwnerIndex: boolean },
): Promise<Map<string, string[]>> {
  await ensureLeaseTable(dynamodb, tableName, AbortSignal.timeout(60_000), shape)
  const assigned = roundRobin(
    shards.map((s) => s.ShardId!),
    workerIds,
  )
  const ownerOf = new Map([...assigned].flatMap(([owner, ids]) => ids.map((id) => [id, owner] as const)))
  for (let i = 0; i < shards.length; i += 25) {
    let pending: WriteRequest[] = shards.slice(i, i + 25).map((s) => leaseItem(s, ownerOf.get(s.ShardId!)!))
    while (pending.length > 0) {
      const out = await dynamodb.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: pending } }))
      pending = out.UnprocessedItems?.[tableName] ?? []
    }
  }
  return assigned
}

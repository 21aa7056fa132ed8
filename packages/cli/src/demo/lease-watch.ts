import { type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb'

export interface LeaseView {
  readonly shardId: string
  readonly owner: string | undefined
  readonly checkpoint: string | undefined
}

/** Reads the lease table as any operator would: a Scan, the Java KCL attribute names. */
export async function readLeases(
  dynamodb: DynamoDBClient,
  tableName: string,
  signal?: AbortSignal,
): Promise<LeaseView[]> {
  const leases: LeaseView[] = []
  let startKey: Record<string, import('@aws-sdk/client-dynamodb').AttributeValue> | undefined
  do {
    const page = await dynamodb.send(
      new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey: startKey }),
      { abortSignal: signal },
    )
    for (const item of page.Items ?? []) {
      const entityType = item.entityType?.S
      if (entityType !== undefined && entityType !== 'LEASE') continue
      const shardId = item.leaseKey?.S
      if (shardId === undefined) continue
      leases.push({ shardId, owner: item.leaseOwner?.S, checkpoint: item.checkpoint?.S })
    }
    startKey = page.LastEvaluatedKey
  } while (startKey !== undefined)
  return leases.sort((a, b) => a.shardId.localeCompare(b.shardId))
}

/** Lease count per owner, and the shards each owner holds. */
export function leasesByOwner(leases: readonly LeaseView[]): Map<string, string[]> {
  const owners = new Map<string, string[]>()
  for (const lease of leases) {
    if (lease.owner === undefined || lease.checkpoint === 'SHARD_END') continue
    const shards = owners.get(lease.owner) ?? []
    shards.push(lease.shardId)
    owners.set(lease.owner, shards)
  }
  return owners
}

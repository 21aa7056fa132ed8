import { describe, expect, it } from 'vitest'
import { leaseFromItem, leaseToItem } from './lease-serializer.js'
import { newLease } from './lease.js'

/** An item as the Java KCL 2.x DynamoDBLeaseSerializer writes it. */
const javaItem = {
  leaseKey: { S: 'shardId-000000000003' },
  leaseOwner: { S: 'ip-10-0-0-12:5f0c' },
  leaseCounter: { N: '1473' },
  checkpoint: { S: '49590338271490256608559692538361571095921575989136588898' },
  checkpointSubSequenceNumber: { N: '7' },
  pendingCheckpoint: { S: '49590338271490256608559692540925702759324208523137515618' },
  pendingCheckpointSubSequenceNumber: { N: '0' },
  pendingCheckpointState: { B: new Uint8Array([1, 2, 3]) },
  ownerSwitchesSinceCheckpoint: { N: '2' },
  parentShardId: { SS: ['shardId-000000000000', 'shardId-000000000001'] },
  childShardIds: { SS: ['shardId-000000000005'] },
  startingHashKey: { S: '0' },
  endingHashKey: { S: '170141183460469231731687303715884105727' },
  throughputKBps: { N: '12.5' },
  checkpointOwner: { S: 'ip-10-0-0-13:77aa' },
}

describe('lease serializer', () => {
  it('reads every Java KCL attribute with its type', () => {
    expect(leaseFromItem(javaItem)).toEqual({
      leaseKey: 'shardId-000000000003',
      leaseOwner: 'ip-10-0-0-12:5f0c',
      leaseCounter: 1473,
      checkpoint: { sequenceNumber: '49590338271490256608559692538361571095921575989136588898', subSequenceNumber: 7 },
      pendingCheckpoint: {
        sequenceNumber: '49590338271490256608559692540925702759324208523137515618',
        subSequenceNumber: 0,
      },
      pendingCheckpointState: new Uint8Array([1, 2, 3]),
      ownerSwitchesSinceCheckpoint: 2,
      parentShardIds: ['shardId-000000000000', 'shardId-000000000001'],
      childShardIds: ['shardId-000000000005'],
      hashKeyRange: { startingHashKey: '0', endingHashKey: '170141183460469231731687303715884105727' },
      throughputKBps: 12.5,
      checkpointOwner: 'ip-10-0-0-13:77aa',
    })
  })

  it('round-trips a Java item unchanged', () => {
    expect(leaseToItem(leaseFromItem(javaItem)!)).toEqual(javaItem)
  })

  it('writes a new lease as the Java KCL creates one: sentinel checkpoint, no empty sets, no owner', () => {
    const item = leaseToItem(
      newLease('shardId-000000000009', { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 }, [], {
        startingHashKey: '0',
        endingHashKey: '99',
      }),
    )
    expect(item).toEqual({
      leaseKey: { S: 'shardId-000000000009' },
      leaseCounter: { N: '0' },
      ownerSwitchesSinceCheckpoint: { N: '0' },
      checkpoint: { S: 'TRIM_HORIZON' },
      checkpointSubSequenceNumber: { N: '0' },
      startingHashKey: { S: '0' },
      endingHashKey: { S: '99' },
    })
  })

  it('reads a minimal older lease (no hash range, no sub-sequence) with defaults', () => {
    const lease = leaseFromItem({
      leaseKey: { S: 'shardId-1' },
      leaseCounter: { N: '3' },
      checkpoint: { S: 'SHARD_END' },
    })
    expect(lease).toMatchObject({
      leaseOwner: undefined,
      checkpoint: { sequenceNumber: 'SHARD_END', subSequenceNumber: 0 },
      parentShardIds: [],
      hashKeyRange: undefined,
    })
  })

  it('skips items whose entityType is not LEASE, keeps those marked LEASE', () => {
    expect(leaseFromItem({ ...javaItem, entityType: { S: 'WORKER_METRICS' } })).toBeUndefined()
    expect(leaseFromItem({ ...javaItem, entityType: { S: 'LEASE' } })?.leaseKey).toBe('shardId-000000000003')
    expect(leaseFromItem({ somethingElse: { S: 'x' } })).toBeUndefined()
  })
})

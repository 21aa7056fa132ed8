import { GetItemCommand } from '@aws-sdk/client-dynamodb'
import { afterAll, describe, expect, it } from 'vitest'
import { leaseFromItem } from '../../packages/consumer/src/leases/lease-serializer.js'
import { LeaseStore } from '../../packages/consumer/src/leases/lease-store.js'
import { ensureLeaseTable } from '../../packages/consumer/src/leases/lease-table.js'
import { newLease } from '../../packages/consumer/src/leases/lease.js'
import { dynamoDBClient, uniqueName } from '../support/aws.js'

const dynamodb = dynamoDBClient()
afterAll(() => dynamodb.destroy())

const TRIM = { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 }

async function tableWithLease(owner?: string) {
  const table = uniqueName('kcl3-writes')
  await ensureLeaseTable(dynamodb, table, AbortSignal.timeout(30_000))
  const store = new LeaseStore(dynamodb, table, 5_000)
  await store.createLeaseIfNotExists(newLease('shardId-000000000000', TRIM, [], undefined))
  let lease = (await store.getLease('shardId-000000000000'))!
  if (owner !== undefined) lease = (await store.take(lease, owner))!
  return { store, table, lease }
}

async function rawItem(table: string) {
  const { Item } = await dynamodb.send(
    new GetItemCommand({ TableName: table, Key: { leaseKey: { S: 'shardId-000000000000' } }, ConsistentRead: true }),
  )
  return Item!
}

describe('KCL 3.x lease writes (kcl3-protocol §3)', () => {
  it('assign: owner set, checkpointOwner removed, counter + 1, owner switch counted; the old owner can no longer renew', async () => {
    const { store, table, lease } = await tableWithLease('w1')
    const assigned = await store.assign(lease, 'w2')
    expect(assigned).toMatchObject({
      leaseOwner: 'w2',
      leaseCounter: lease.leaseCounter + 1,
      checkpointOwner: undefined,
    })
    expect(assigned!.ownerSwitchesSinceCheckpoint).toBe(lease.ownerSwitchesSinceCheckpoint + 1)
    expect(await store.renew(lease, 'w1')).toBeUndefined()
    // Conditional on the owner fields read: a second assign from the stale view fails.
    expect(await store.assign(lease, 'w3')).toBeUndefined()
    expect(leaseFromItem(await rawItem(table))?.leaseOwner).toBe('w2')
  })

  it('assign of an unowned lease expects leaseOwner absent and adds no owner switch', async () => {
    const { store, lease } = await tableWithLease()
    const assigned = await store.assign(lease, 'w1')
    expect(assigned).toMatchObject({ leaseOwner: 'w1', ownerSwitchesSinceCheckpoint: 0 })
  })

  it('initiate handoff: leaseOwner = new, checkpointOwner = old, counter untouched; the old owner ends it with assign', async () => {
    const { store, table, lease } = await tableWithLease('w1')
    const handoff = await store.initiateHandoff(lease, 'w2')
    expect(handoff).toMatchObject({ leaseOwner: 'w2', checkpointOwner: 'w1', leaseCounter: lease.leaseCounter })
    // A second initiation fails: checkpointOwner must be absent.
    expect(await store.initiateHandoff(lease, 'w3')).toBeUndefined()
    const done = await store.assign(handoff!, 'w2')
    expect(done).toMatchObject({ leaseOwner: 'w2', checkpointOwner: undefined, leaseCounter: lease.leaseCounter + 1 })
    expect((await rawItem(table)).checkpointOwner).toBeUndefined()
  })

  it('renew3x: fails once the leader started a handoff; renewed again knowing it, it expects checkpointOwner = self', async () => {
    const { store, table, lease } = await tableWithLease('w1')
    const renewed = (await store.renew3x(lease, 'w1', 1.5))!
    expect(renewed.leaseCounter).toBe(lease.leaseCounter + 1)
    // Sent with six decimals as Java writes it; DynamoDB stores the number normalized.
    expect((await rawItem(table)).throughputKBps).toEqual({ N: '1.5' })
    const handoff = (await store.initiateHandoff(renewed, 'w2'))!
    expect(await store.renew3x(renewed, 'w1', 0)).toBeUndefined()
    const during = (await store.renew3x(handoff, 'w1', undefined))!
    expect(during).toMatchObject({ leaseOwner: 'w2', checkpointOwner: 'w1', leaseCounter: renewed.leaseCounter + 1 })
    expect((await rawItem(table)).throughputKBps).toEqual({ N: '1.5' })
    // The old owner's final checkpoint is conditional on checkpointOwner, not on leaseOwner.
    const checkpointed = await store.checkpoint(during, 'w1', { sequenceNumber: '42', subSequenceNumber: 0 })
    expect(checkpointed).toMatchObject({ checkpoint: { sequenceNumber: '42' }, leaseOwner: 'w2' })
    // Once assigned over, the old owner can neither renew nor checkpoint.
    const assigned = (await store.assign(checkpointed!, 'w2'))!
    expect(assigned.checkpointOwner).toBeUndefined()
    expect(await store.renew3x(checkpointed!, 'w1', 0)).toBeUndefined()
    expect(await store.checkpoint(assigned, 'w1', { sequenceNumber: '43', subSequenceNumber: 0 })).toBeUndefined()
  })

  it('listLeaseKeysOwnedBy answers from the LeaseOwnerToLeaseKeyIndex, every page', async () => {
    const { store } = await tableWithLease()
    for (let i = 1; i <= 3; i++) {
      await store.createLeaseIfNotExists(newLease(`shardId-00000000000${i}`, TRIM, [], undefined))
      await store.assign((await store.getLease(`shardId-00000000000${i}`))!, i === 3 ? 'w2' : 'w1')
    }
    expect((await store.listLeaseKeysOwnedBy('w1')).sort()).toEqual(['shardId-000000000001', 'shardId-000000000002'])
    expect(await store.listLeaseKeysOwnedBy('nobody')).toEqual([])
  })
})

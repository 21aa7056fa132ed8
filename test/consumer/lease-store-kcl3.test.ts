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
})

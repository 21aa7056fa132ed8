import { afterAll, describe, expect, it } from 'vitest'
import type { WorkerMetricStats } from '../../packages/consumer/src/kcl3/contracts.js'
import { PeerAssignment } from '../../packages/consumer/src/kcl3/peer-assignment.js'
import { LeaseStore } from '../../packages/consumer/src/leases/lease-store.js'
import { ensureLeaseTable } from '../../packages/consumer/src/leases/lease-table.js'
import { newLease } from '../../packages/consumer/src/leases/lease.js'
import { dynamoDBClient, uniqueName } from '../support/aws.js'

const dynamodb = dynamoDBClient()
afterAll(() => dynamodb.destroy())

const TRIM = { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 }

/** A table whose leases are owned as given (one lease per entry). */
async function tableOwnedBy(owners: readonly string[]): Promise<LeaseStore> {
  const tableName = uniqueName('kcl3-peers')
  await ensureLeaseTable(dynamodb, tableName, AbortSignal.timeout(30_000))
  const store = new LeaseStore(dynamodb, tableName, 5_000)
  for (const [i, owner] of owners.entries()) {
    const key = `shardId-${String(i).padStart(12, '0')}`
    await store.createLeaseIfNotExists(newLease(key, TRIM, [], undefined))
    const [lease] = (await store.listLeases()).filter((l) => l.leaseKey === key)
    await store.assign(lease!, owner)
  }
  return store
}

const metricsOf = (stats: WorkerMetricStats[]) => ({ list: async () => stats })

describe('PeerAssignment: where a shutting-down 3.x worker gives its leases', () => {
  it('before any worker reported metrics, to the other lease owners, fewest leases first, not evicting', async () => {
    const store = await tableOwnedBy(['leaving', 'leaving', 'a', 'a', 'b'])
    const peers = new PeerAssignment({
      store,
      workerId: 'leaving',
      workerMetrics: metricsOf([]),
      workerMetricsReporterFreqInMillis: 30_000,
    })
    const signal = AbortSignal.timeout(10_000)
    expect([await peers.choose(signal), await peers.choose(signal)]).toEqual(['b', 'a'])
  })

  it('without a metrics reader (no 3.x metrics at all), nobody: the lease is evicted for the leader', async () => {
    const store = await tableOwnedBy(['leaving', 'a'])
    const peers = new PeerAssignment({
      store,
      workerId: 'leaving',
      workerMetrics: undefined,
      workerMetricsReporterFreqInMillis: 30_000,
    })
    expect(await peers.choose(AbortSignal.timeout(10_000))).toBeUndefined()
  })
})

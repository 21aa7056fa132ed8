import { noopMetrics, silentLogger } from '@kinesis-ts/shared'
import { describe, expect, it } from 'vitest'
import { ShardCheckpointer } from './checkpointer.js'
import { InvalidCheckpointError, ShutdownError } from './errors.js'
import { HeldLease } from './leases/held-lease.js'
import type { LeaseStore } from './leases/lease-store.js'
import { type Lease, newLease } from './leases/lease.js'
import type { ExtendedSequenceNumber } from './types.js'

/**
 * A store stub that applies conditional writes to one in-memory lease. `faults.commitThenFail` makes
 * the next N writes commit and then reject, as a DynamoDB 500 or a timeout after the write landed.
 */
function fakeStore(current: { lease: Lease }, faults = { commitThenFail: 0 }) {
  const write = (expected: Lease, change: Partial<Lease>) => {
    if (expected.leaseCounter !== current.lease.leaseCounter || current.lease.leaseOwner !== 'me')
      return Promise.resolve(undefined)
    current.lease = { ...current.lease, ...change, leaseCounter: current.lease.leaseCounter + 1 }
    if (faults.commitThenFail > 0) {
      faults.commitThenFail--
      return Promise.reject(new Error('InternalServerError after the write committed'))
    }
    return Promise.resolve(current.lease)
  }
  return {
    getLease: async () => current.lease,
    checkpoint: (lease: Lease, _owner: string, checkpoint: ExtendedSequenceNumber) =>
      write(lease, { checkpoint, pendingCheckpoint: undefined }),
    prepareCheckpoint: (lease: Lease, _owner: string, pendingCheckpoint: ExtendedSequenceNumber) =>
      write(lease, { pendingCheckpoint }),
  } as unknown as LeaseStore
}

function setup(checkpoint = '100', faults = { commitThenFail: 0 }) {
  const lease = {
    ...newLease('shard-1', { sequenceNumber: checkpoint, subSequenceNumber: 0 }, [], undefined),
    leaseOwner: 'me',
  }
  const current = { lease }
  const store = fakeStore(current, faults)
  const held = new HeldLease(lease, 'me', (key) => store.getLease(key), 0)
  const checkpointer = new ShardCheckpointer({
    held,
    store,
    workerId: 'me',
    logger: silentLogger,
    metrics: noopMetrics,
  })
  return { current, held, checkpointer }
}

const record = (sequenceNumber: string, subSequenceNumber = 0) => ({
  data: new Uint8Array(),
  partitionKey: 'k',
  sequenceNumber,
  subSequenceNumber,
  approximateArrivalTimestamp: new Date(0),
  aggregated: subSequenceNumber > 0,
  headers: {},
})

describe('ShardCheckpointer', () => {
  it('checkpoint() stores the last record delivered; checkpoint(record) and (seq, sub) store that position', async () => {
    const { current, checkpointer } = setup()
    checkpointer.setLargestPermitted(record('300', 4))
    await checkpointer.checkpoint(record('200', 3))
    expect(current.lease.checkpoint).toEqual({ sequenceNumber: '200', subSequenceNumber: 3 })
    await checkpointer.checkpoint('250')
    expect(current.lease.checkpoint).toEqual({ sequenceNumber: '250', subSequenceNumber: 0 })
    await checkpointer.checkpoint()
    expect(current.lease.checkpoint).toEqual({ sequenceNumber: '300', subSequenceNumber: 4 })
  })

  it('refuses positions before the last checkpoint, after the last record, or malformed', async () => {
    const { checkpointer } = setup()
    checkpointer.setLargestPermitted(record('300'))
    await expect(checkpointer.checkpoint('99')).rejects.toBeInstanceOf(InvalidCheckpointError)
    await expect(checkpointer.checkpoint('300', 1)).rejects.toBeInstanceOf(InvalidCheckpointError)
    await expect(checkpointer.checkpoint('301')).rejects.toMatchObject({ code: 'ERR_INVALID_CHECKPOINT' })
    await expect(checkpointer.checkpoint('12abc')).rejects.toBeInstanceOf(InvalidCheckpointError)
    await expect(checkpointer.checkpoint('200', -1)).rejects.toBeInstanceOf(InvalidCheckpointError)
    await expect(checkpointer.checkpoint('SHARD_END')).rejects.toBeInstanceOf(InvalidCheckpointError)
  })

  it('prepareCheckpoint stores a pending checkpoint that its handle commits', async () => {
    const { current, checkpointer } = setup()
    checkpointer.setLargestPermitted(record('300'))
    const prepared = await checkpointer.prepareCheckpoint('250', 2)
    expect(current.lease.pendingCheckpoint).toEqual({ sequenceNumber: '250', subSequenceNumber: 2 })
    expect(current.lease.checkpoint.sequenceNumber).toBe('100')
    await prepared.checkpoint()
    expect(current.lease.checkpoint).toEqual({ sequenceNumber: '250', subSequenceNumber: 2 })
    expect(current.lease.pendingCheckpoint).toBeUndefined()
  })

  it('inside shardEnded, checkpoint() writes SHARD_END', async () => {
    const { current, checkpointer } = setup()
    checkpointer.markShardEnded()
    await checkpointer.checkpoint()
    expect(current.lease.checkpoint).toEqual({ sequenceNumber: 'SHARD_END', subSequenceNumber: 0 })
  })

  it('rejects with ShutdownError once the lease is lost, taken by another worker, or released', async () => {
    const lost = setup()
    lost.checkpointer.setLargestPermitted(record('300'))
    lost.held.markLost('test')
    await expect(lost.checkpointer.checkpoint()).rejects.toBeInstanceOf(ShutdownError)

    const stolen = setup()
    stolen.checkpointer.setLargestPermitted(record('300'))
    stolen.current.lease = { ...stolen.current.lease, leaseCounter: 99, leaseOwner: 'thief' }
    await expect(stolen.checkpointer.checkpoint()).rejects.toMatchObject({ code: 'ERR_SHUTDOWN' })
    expect(stolen.held.lost).toBe(true)

    const released = setup()
    released.checkpointer.close('the worker shut down')
    await expect(released.checkpointer.checkpoint()).rejects.toBeInstanceOf(ShutdownError)
  })

  it('a checkpoint that committed but answered an error does not cost the lease: the next write re-reads and goes on', async () => {
    const faults = { commitThenFail: 1 }
    const { current, held, checkpointer } = setup('100', faults)
    checkpointer.setLargestPermitted(record('300'))
    await expect(checkpointer.checkpoint('200')).rejects.toThrow('after the write committed')
    // The table moved on (counter 1) while the lease we hold still says 0.
    expect(current.lease.leaseCounter).toBe(1)
    expect(held.lease.leaseCounter).toBe(0)
    await checkpointer.checkpoint('250')
    expect(held.lost).toBe(false)
    expect(current.lease.checkpoint).toEqual({ sequenceNumber: '250', subSequenceNumber: 0 })
    expect(held.lease.leaseCounter).toBe(current.lease.leaseCounter)
    expect(current.lease.leaseCounter).toBe(2)
  })

  it('after a failed condition, an item that names another checkpointOwner is not ours (KCL 3.x handoff)', async () => {
    const { current, held, checkpointer } = setup()
    checkpointer.setLargestPermitted(record('300'))
    current.lease = { ...current.lease, leaseCounter: 5, checkpointOwner: 'other' }
    await expect(checkpointer.checkpoint()).rejects.toBeInstanceOf(ShutdownError)
    expect(held.lost).toBe(true)
  })

  it('a checkpoint in flight when the lease is lost (fenced) ends at once with ShutdownError', async () => {
    const { held } = setup()
    const hanging = {
      checkpoint: (_lease: Lease, _owner: string, _target: ExtendedSequenceNumber, signal?: AbortSignal) =>
        new Promise<Lease | undefined>((_, reject) => {
          signal?.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' })))
        }),
      getLease: async () => undefined,
    } as unknown as LeaseStore
    const checkpointer = new ShardCheckpointer({
      held,
      store: hanging,
      workerId: 'me',
      logger: silentLogger,
      metrics: noopMetrics,
    })
    checkpointer.setLargestPermitted(record('300'))
    const pending = checkpointer.checkpoint()
    await new Promise((resolve) => setImmediate(resolve))
    held.markLost('not renewed for 9000 ms (failoverTimeMillis 10000)')
    await expect(pending).rejects.toBeInstanceOf(ShutdownError)
  })
})

import { DeleteItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb'
import { ClosedError, sleep } from '@kinesis-ts/shared'
import { afterAll, describe, expect, it } from 'vitest'
import { type ShardRecordProcessor, ShutdownError } from '../../packages/consumer/src/index.js'
import { createStream, kinesisClient, uniqueName } from '../support/aws.js'
import { FAST, Fleet, putAll, waitFor } from './support/harness.js'

const kinesis = kinesisClient()
afterAll(() => kinesis.destroy())

const records = (tag: string, count: number) =>
  Array.from({ length: count }, (_, i) => ({ partitionKey: `key-${i}`, data: Buffer.from(`${tag}-${i}`) }))

function gate() {
  let open!: () => void
  const opened = new Promise<void>((resolve) => {
    open = resolve
  })
  return { open, opened }
}

describe('lease loss and lifecycle', () => {
  it('a lease lost mid-batch: the batch finishes, its checkpoint rejects with ShutdownError, leaseLost follows, no new batch', async () => {
    const stream = await createStream(kinesis, 1)
    const fleet = new Fleet(stream, uniqueName('app'))
    const inBatch = gate()
    const release = gate()
    let checkpointError: unknown
    const calls: string[] = []
    const slow: ShardRecordProcessor = {
      initialize: () => {
        calls.push('initialize')
      },
      async processRecords({ records: batch, checkpointer }) {
        calls.push(`processRecords:${batch.length}`)
        inBatch.open()
        await release.opened
        await checkpointer.checkpoint().catch((error: unknown) => {
          checkpointError = error
        })
      },
      leaseLost: () => {
        calls.push('leaseLost')
      },
      shardEnded: () => {},
      shutdownRequested: () => {
        calls.push('shutdownRequested')
      },
    }
    let thiefRenewing: ReturnType<typeof setInterval> | undefined
    try {
      const worker = await fleet.start('a', { processorFactory: () => slow })
      const lost: string[] = []
      worker.on('consumer.lease_lost', ({ shardId }) => lost.push(shardId))
      await putAll(kinesis, stream, records('one', 5))
      await inBatch.opened
      // Another worker takes the lease, as its taker would: owner and counter change conditionally.
      const [shardId] = worker.leases
      await fleet.dynamodb.send(
        new UpdateItemCommand({
          TableName: worker.config.tableName,
          Key: { leaseKey: { S: shardId! } },
          UpdateExpression: 'SET leaseOwner = :thief, leaseCounter = leaseCounter + :one',
          ExpressionAttributeValues: { ':thief': { S: 'thief' }, ':one': { N: '1' } },
        }),
      )
      // The thief stays alive (renews), so the lease is not taken back once expired: this is lease loss, not failover.
      thiefRenewing = setInterval(() => {
        void fleet.dynamodb
          .send(
            new UpdateItemCommand({
              TableName: worker.config.tableName,
              Key: { leaseKey: { S: shardId! } },
              UpdateExpression: 'SET leaseCounter = leaseCounter + :one',
              ConditionExpression: 'leaseOwner = :thief',
              ExpressionAttributeValues: { ':thief': { S: 'thief' }, ':one': { N: '1' } },
            }),
          )
          .catch(() => {})
      }, FAST.failoverTimeMillis / 4)
      await waitFor('the renewer notices', () => lost.length === 1)
      expect(calls).toEqual(['initialize', 'processRecords:5'])
      release.open()
      await waitFor('leaseLost', () => calls.includes('leaseLost'))
      expect(checkpointError).toBeInstanceOf(ShutdownError)
      await putAll(kinesis, stream, records('two', 5))
      await sleep(1_000)
      expect(calls).toEqual(['initialize', 'processRecords:5', 'leaseLost'])
      expect(worker.leases).toEqual([])
      const lease = (await fleet.leases()).get(shardId!)!
      expect(lease.leaseOwner).toBe('thief')
      expect(lease.checkpoint.sequenceNumber).toBe('TRIM_HORIZON')
    } finally {
      clearInterval(thiefRenewing)
      await fleet.close()
    }
  })

  it('initialPosition LATEST reads only what arrives after the worker started', async () => {
    const stream = await createStream(kinesis, 2)
    await putAll(kinesis, stream, records('before', 20))
    const fleet = new Fleet(stream, uniqueName('app'), { initialPosition: 'LATEST' })
    try {
      const worker = await fleet.start('w')
      const started = new Set<string>()
      worker.on('consumer.shard_started', ({ shardId }) => started.add(shardId))
      await waitFor('both shards started', () => started.size === 2)
      await sleep(500)
      await putAll(kinesis, stream, records('after', 20))
      await waitFor('after records', () => fleet.journal.deliveries.length >= 20)
      await sleep(300)
      expect(fleet.journal.deliveries.map((d) => d.data).sort()).toEqual(
        records('after', 20)
          .map((r) => r.data.toString())
          .sort(),
      )
      const leases = await fleet.leases()
      expect([...leases.values()].every((l) => l.checkpoint.sequenceNumber !== 'LATEST')).toBe(true)
    } finally {
      await fleet.close()
    }
  })

  it('initialPosition AT_TIMESTAMP starts at the first record that arrived at or after it', async () => {
    const stream = await createStream(kinesis, 1)
    await putAll(kinesis, stream, records('before', 10))
    await sleep(1_100)
    const at = new Date()
    await sleep(1_100)
    await putAll(kinesis, stream, records('after', 10))
    const fleet = new Fleet(stream, uniqueName('app'), { initialPosition: { atTimestamp: at } })
    try {
      await fleet.start('w')
      await waitFor('after records', () => fleet.journal.deliveries.length >= 10)
      await sleep(300)
      expect(fleet.journal.deliveries.map((d) => d.data)).toEqual(records('after', 10).map((r) => r.data.toString()))
    } finally {
      await fleet.close()
    }
  })

  it('the periodic audit repairs a hash-range hole (a deleted lease) from ListShards', async () => {
    const stream = await createStream(kinesis, 2)
    const fleet = new Fleet(stream, uniqueName('app'))
    try {
      const worker = await fleet.start('w')
      await waitFor('both leases', () => worker.leases.length === 2)
      const [victim] = worker.leases
      await fleet.dynamodb.send(
        new DeleteItemCommand({ TableName: worker.config.tableName, Key: { leaseKey: { S: victim! } } }),
      )
      await waitFor(
        'lease recreated and taken',
        async () => worker.leases.includes(victim!) && (await fleet.leases()).has(victim!),
      )
      await putAll(kinesis, stream, records('r', 40))
      await waitFor('records of both shards', () => new Set(fleet.journal.deliveries.map((d) => d.shardId)).size === 2)
      expect(fleet.journal.distinctData().size).toBe(40)
    } finally {
      await fleet.close()
    }
  })

  it('callProcessRecordsEvenForEmptyRecordList delivers empty batches with millisBehindLatest', async () => {
    const stream = await createStream(kinesis, 1)
    let empty = 0
    const fleet = new Fleet(
      stream,
      uniqueName('app'),
      { callProcessRecordsEvenForEmptyRecordList: true },
      {
        onRecords: ({ records: batch, millisBehindLatest }) => {
          if (batch.length === 0 && typeof millisBehindLatest === 'number') empty++
        },
      },
    )
    try {
      await fleet.start('w')
      await waitFor('empty batches', () => empty >= 3)
    } finally {
      await fleet.close()
    }
  })

  it('shutdown is idempotent and bounded; a second call ends a stuck shutdown; start() after it rejects', async () => {
    const stream = await createStream(kinesis, 1)
    const stuck: ShardRecordProcessor = {
      initialize: () => {},
      processRecords: () => {},
      leaseLost: () => {},
      shardEnded: () => {},
      shutdownRequested: () => new Promise<void>(() => {}),
    }
    const fleet = new Fleet(stream, uniqueName('app'), { shutdownTimeoutMillis: 60_000 })
    try {
      const worker = await fleet.start('w', { processorFactory: () => stuck })
      const started = new Set<string>()
      worker.on('consumer.shard_started', ({ shardId }) => started.add(shardId))
      await waitFor('shard started', () => started.size === 1)
      const first = worker.shutdown()
      let settled = false
      void first.then(() => {
        settled = true
      })
      await sleep(300)
      expect(settled).toBe(false)
      const second = worker.shutdown()
      expect(second).toBe(first)
      await second
      await expect(worker.start()).rejects.toBeInstanceOf(ClosedError)
      // Cut short: the lease was not released, it will expire.
      const [lease] = (await fleet.leases()).values()
      expect(lease!.leaseOwner).toBe('w')

      const bounded = await fleet.start('bounded', { processorFactory: () => stuck, shutdownTimeoutMillis: 300 })
      await waitFor('taken after expiry', () => bounded.leases.length === 1, 20_000)
      await bounded.shutdown()
    } finally {
      await fleet.close()
    }
  })
})

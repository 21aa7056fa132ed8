import {
  type AttributeValue,
  CreateTableCommand,
  DescribeTableCommand,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb'
import { PutRecordsCommand, SplitShardCommand } from '@aws-sdk/client-kinesis'
import { ShardMap, encodeAggregated, sleep } from '@kinesis-ts/shared'
import { afterAll, describe, expect, it } from 'vitest'
import { createStream, kinesisClient, listAllShards, uniqueName, waitForStreamActive } from '../support/aws.js'
import { Fleet, keysFor, waitFor } from './support/harness.js'

const kinesis = kinesisClient()
afterAll(() => kinesis.destroy())

const JAVA_WORKER = 'ip-10-0-0-12.ec2.internal:6b7d4f30-9c1a-4c1e-9d55-2a0d1b6f1f8e'

/** Puts records one call at a time and returns their sequence numbers. */
async function put(stream: string, records: { partitionKey: string; data: Uint8Array; explicitHashKey?: string }[]) {
  const out = await kinesis.send(
    new PutRecordsCommand({
      StreamName: stream,
      Records: records.map((r) => ({ PartitionKey: r.partitionKey, Data: r.data, ExplicitHashKey: r.explicitHashKey })),
    }),
  )
  expect(out.FailedRecordCount).toBe(0)
  return out.Records!.map((r) => r.SequenceNumber!)
}

const text = (s: string) => Buffer.from(s)

describe('Java KCL interop', () => {
  it('resumes a lease table written by the Java KCL exactly where it stood', async () => {
    const stream = await createStream(kinesis, 2)
    const [s0, s1] = await listAllShards(kinesis, stream)
    const map = new ShardMap([s0!, s1!])
    // Shard 1: an aggregate of five user records, then five plain ones.
    const aggKeys = keysFor(map, s1!.ShardId!, 5, 'agg')
    const aggregate = encodeAggregated(aggKeys.map((key, i) => ({ partitionKey: key, data: text(`agg-${i}`) })))
    const [aggSeq] = await put(stream, [
      { partitionKey: 'a', explicitHashKey: s1!.HashKeyRange!.StartingHashKey!, data: aggregate },
    ])
    const plainKeys = keysFor(map, s1!.ShardId!, 5, 'plain')
    await put(
      stream,
      plainKeys.map((key, i) => ({ partitionKey: key, data: text(`p1-${i}`) })),
    )
    // Shard 0 is read to its end by the Java app, then split.
    const start = BigInt(s0!.HashKeyRange!.StartingHashKey!)
    const end = BigInt(s0!.HashKeyRange!.EndingHashKey!)
    const middle = (start + end) / 2n
    await kinesis.send(
      new SplitShardCommand({ StreamName: stream, ShardToSplit: s0!.ShardId!, NewStartingHashKey: middle.toString() }),
    )
    await sleep(50)
    await waitForStreamActive(kinesis, stream)
    const [c2, c3] = (await listAllShards(kinesis, stream)).filter((s) => s.ParentShardId === s0!.ShardId)
    const c2Seqs = await put(
      stream,
      [0, 1, 2].map((i) => ({
        partitionKey: 'x',
        explicitHashKey: (start + BigInt(i)).toString(),
        data: text(`c2-${i}`),
      })),
    )
    const c3Seqs = await put(
      stream,
      [0, 1, 2, 3].map((i) => ({
        partitionKey: 'x',
        explicitHashKey: (end - BigInt(i)).toString(),
        data: text(`c3-${i}`),
      })),
    )
    expect(c2Seqs).toHaveLength(3)

    // The table as a Java KCL 2.x worker leaves it, built from the schema (DESIGN.md).
    const applicationName = uniqueName('java-app')
    const fleet = new Fleet(stream, applicationName, { initialPosition: 'LATEST' })
    const ddb = fleet.dynamodb
    await ddb.send(
      new CreateTableCommand({
        TableName: applicationName,
        BillingMode: 'PAY_PER_REQUEST',
        // No LeaseOwnerToLeaseKeyIndex: Java 2.x never creates it (3.x adds it by UpdateTable), and without
        // it and without coordinator state the default options run the 2.x protocol on this table.
        AttributeDefinitions: [{ AttributeName: 'leaseKey', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'leaseKey', KeyType: 'HASH' }],
      }),
    )
    await waitFor('table ACTIVE', async () => {
      const { Table } = await ddb.send(new DescribeTableCommand({ TableName: applicationName }))
      return Table?.TableStatus === 'ACTIVE'
    })
    const range = (shard: typeof s0) => ({
      startingHashKey: { S: shard!.HashKeyRange!.StartingHashKey! },
      endingHashKey: { S: shard!.HashKeyRange!.EndingHashKey! },
    })
    const items: Record<string, AttributeValue>[] = [
      {
        leaseKey: { S: s0!.ShardId! },
        leaseOwner: { S: JAVA_WORKER },
        leaseCounter: { N: '1473' },
        checkpoint: { S: 'SHARD_END' },
        checkpointSubSequenceNumber: { N: '0' },
        ownerSwitchesSinceCheckpoint: { N: '0' },
        // No childShardIds: KCL versions before 2.3 did not record them; cleanup finds them in ListShards.
        ...range(s0),
      },
      {
        // Written by a KCL before 2.3: no hash range stored.
        leaseKey: { S: s1!.ShardId! },
        leaseOwner: { S: JAVA_WORKER },
        leaseCounter: { N: '88' },
        checkpoint: { S: aggSeq! },
        checkpointSubSequenceNumber: { N: '2' },
        ownerSwitchesSinceCheckpoint: { N: '3' },
      },
      {
        leaseKey: { S: c2!.ShardId! },
        leaseOwner: { S: JAVA_WORKER },
        leaseCounter: { N: '4' },
        checkpoint: { S: 'TRIM_HORIZON' },
        checkpointSubSequenceNumber: { N: '0' },
        ownerSwitchesSinceCheckpoint: { N: '0' },
        parentShardId: { SS: [s0!.ShardId!] },
        ...range(c2),
      },
      {
        leaseKey: { S: c3!.ShardId! },
        leaseCounter: { N: '12' },
        checkpoint: { S: c3Seqs[1]! },
        checkpointSubSequenceNumber: { N: '0' },
        ownerSwitchesSinceCheckpoint: { N: '0' },
        parentShardId: { SS: [s0!.ShardId!] },
        pendingCheckpoint: { S: c3Seqs[2]! },
        pendingCheckpointSubSequenceNumber: { N: '0' },
        ...range(c3),
      },
    ]
    const notALease = {
      leaseKey: { S: 'WorkerMetricStats:some-java-worker' },
      entityType: { S: 'WORKER_METRICS' },
      leaseCounter: { N: '5' },
      checkpoint: { S: 'TRIM_HORIZON' },
      metricStats: { M: { cpu: { L: [{ N: '12.5' }] } } },
    }
    for (const item of [...items, notALease])
      await ddb.send(new PutItemCommand({ TableName: applicationName, Item: item }))

    try {
      const worker = await fleet.start('ts-worker')
      // Three leases name a Java worker that stopped: they expire, the unowned one is free at once.
      await waitFor('all leases taken', () => worker.leases.length === 4, 20_000)
      await waitFor('records', () => fleet.journal.deliveries.length >= 2 + 5 + 3 + 2)
      await sleep(500)

      const of = (shardId: string) =>
        fleet.journal.deliveries.filter((d) => d.shardId === shardId).map((d) => `${d.data}@${d.subSequenceNumber}`)
      expect(of(s1!.ShardId!)).toEqual(['agg-3@3', 'agg-4@4', 'p1-0@0', 'p1-1@0', 'p1-2@0', 'p1-3@0', 'p1-4@0'])
      expect(of(c2!.ShardId!)).toEqual(['c2-0@0', 'c2-1@0', 'c2-2@0'])
      expect(of(c3!.ShardId!)).toEqual(['c3-2@0', 'c3-3@0'])
      // A shard at SHARD_END gets no processor.
      expect(fleet.journal.calls.filter((c) => c.shardId === s0!.ShardId)).toEqual([])
      const init = fleet.journal.callsOf('initialize').find((c) => c.shardId === s1!.ShardId)
      expect(init?.detail).toEqual({ sequenceNumber: aggSeq, subSequenceNumber: 2 })

      // Our writes keep the Java attribute names and types.
      const raw = async (key: string) =>
        (
          await ddb.send(
            new GetItemCommand({ TableName: applicationName, Key: { leaseKey: { S: key } }, ConsistentRead: true }),
          )
        ).Item
      const s1Item = (await raw(s1!.ShardId!))!
      expect(s1Item.leaseOwner).toEqual({ S: 'ts-worker' })
      expect(Number(s1Item.leaseCounter!.N)).toBeGreaterThan(88)
      expect(s1Item.checkpoint!.S).toMatch(/^\d+$/)
      expect(s1Item.checkpointSubSequenceNumber).toEqual({ N: '0' })
      expect(s1Item.ownerSwitchesSinceCheckpoint).toEqual({ N: '0' })
      expect(s1Item.startingHashKey).toEqual({ S: s1!.HashKeyRange!.StartingHashKey })
      const c3Item = (await raw(c3!.ShardId!))!
      expect(c3Item.parentShardId).toEqual({ SS: [s0!.ShardId!] })
      expect(c3Item.pendingCheckpoint).toBeUndefined()
      expect(await raw('WorkerMetricStats:some-java-worker')).toEqual(notALease)
      // The finished parent goes once both children have progressed.
      await waitFor('parent lease cleaned up', async () => (await raw(s0!.ShardId!)) === undefined)
    } finally {
      await fleet.close()
    }
  })
})

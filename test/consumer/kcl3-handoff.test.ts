import { UpdateItemCommand } from '@aws-sdk/client-dynamodb'
import { sleep } from '@kinesis-ts/shared'
import { afterAll, describe, expect, it } from 'vitest'
import { createStream, dynamoDBClient, kinesisClient, listAllShards, uniqueName } from '../support/aws.js'
import { FAST, Fleet, waitFor } from './support/harness.js'

const kinesis = kinesisClient()
const dynamodb = dynamoDBClient()
afterAll(() => {
  kinesis.destroy()
  dynamodb.destroy()
})

/** A Java KCL 3.x old owner during a graceful handoff: keeps renewing (counter + 1) as Java does. */
function javaOldOwnerRenewing(table: string, leaseKey: string) {
  let stopped = false
  const done = (async () => {
    while (!stopped) {
      await dynamodb.send(
        new UpdateItemCommand({
          TableName: table,
          Key: { leaseKey: { S: leaseKey } },
          UpdateExpression: 'ADD leaseCounter :one',
          ExpressionAttributeValues: { ':one': { N: '1' } },
        }),
      )
      await sleep(FAST.failoverTimeMillis / 4)
    }
  })()
  return async () => {
    stopped = true
    await done
  }
}

describe('KCL 3.x graceful handoffs on the lease table', () => {
  it('leases in a Java handoff (checkpointOwner set) are neither taken nor stolen while renewed; once expired they are taken and checkpointOwner cleared', async () => {
    const stream = await createStream(kinesis, 4)
    const shards = (await listAllShards(kinesis, stream)).map((s) => s.ShardId!)
    // Three of four in a handoff: counted for java-old, the TypeScript worker is one short of its share of 2.
    const handedOff = shards.slice(0, 3)
    const table = uniqueName('kcl3')
    const fleet = new Fleet(stream, table)
    try {
      const worker = await fleet.start('ts-worker')
      await waitFor('every lease held', () => worker.leases.length === 4)
      // The Java leader starts handoffs between two Java workers (initiate handoff, kcl3-protocol §4).
      for (const shard of handedOff) {
        await dynamodb.send(
          new UpdateItemCommand({
            TableName: table,
            Key: { leaseKey: { S: shard } },
            UpdateExpression: 'SET leaseOwner = :new, checkpointOwner = :old ADD leaseCounter :one',
            ExpressionAttributeValues: { ':new': { S: 'java-new' }, ':old': { S: 'java-old' }, ':one': { N: '1' } },
          }),
        )
      }
      const stops = handedOff.map((shard) => javaOldOwnerRenewing(table, shard))
      await waitFor('the leases given up by the TypeScript worker', () => worker.leases.length === 1)
      // Three failover times of Java renewals: never taken nor stolen meanwhile (FAST takes every 300 ms).
      const until = Date.now() + 3 * FAST.failoverTimeMillis
      while (Date.now() < until) {
        expect(worker.leases).toEqual([shards[3]])
        await sleep(50)
      }
      for (const shard of handedOff)
        expect((await fleet.leases()).get(shard)).toMatchObject({ leaseOwner: 'java-new', checkpointOwner: 'java-old' })
      await Promise.all(stops.map((stop) => stop()))
      // The Java old owner died mid-handoff: the leases expire and are taken, the handoff cleared.
      await waitFor('the expired leases taken', () => worker.leases.length === 4, 10 * FAST.failoverTimeMillis)
      for (const shard of handedOff) {
        const taken = (await fleet.leases()).get(shard)
        expect(taken?.leaseOwner).toBe('ts-worker')
        expect(taken?.checkpointOwner).toBeUndefined()
      }
    } finally {
      await fleet.close()
    }
  })
})

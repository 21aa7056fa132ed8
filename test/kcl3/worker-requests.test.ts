import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { sleep } from '@kinesis-ts/shared'
import { afterAll, describe, expect, it } from 'vitest'
import type { KinesisConsumerOptions } from '../../packages/consumer/src/index.js'
import { KCL3_WORKER_MODE } from '../../packages/consumer/src/kcl3/worker-mode.js'
import { Fleet, waitFor } from '../consumer/support/harness.js'
import { createStream, dynamoDBClient, kinesisClient, listAllShards, uniqueName } from '../support/aws.js'
import { javaAssign } from './support/java-writes-worker.js'

const kinesis = kinesisClient()
const dynamodb = dynamoDBClient()
afterAll(() => {
  kinesis.destroy()
  dynamodb.destroy()
})

/** Counts the DynamoDB commands a client sends, by name. */
function counting(client: DynamoDBClient): Map<string, number> {
  const counts = new Map<string, number>()
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? 'unknown'
      counts.set(name, (counts.get(name) ?? 0) + 1)
      return next(args)
    },
    { step: 'initialize', name: 'countCommands' },
  )
  return counts
}

/** The default timings (FAST scales them down): what a worker-hour costs is judged at the defaults. */
const DEFAULTS = {
  failoverTimeMillis: 10_000,
  dynamoDbRequestTimeoutMillis: 2_500,
  leaseTakerIntervalMillis: 20_050,
  leaseExpiryWatchIntervalMillis: 500,
  shardSyncIntervalMillis: 60_000,
  completedLeaseCleanupIntervalMillis: 300_000,
  idleTimeBetweenReadsInMillis: 1_500,
} satisfies Partial<KinesisConsumerOptions>

const WINDOW_MS = 20_000
const perHour = (count: number) => Math.round((count * 3_600_000) / WINDOW_MS)

describe('DynamoDB requests of an idle worker holding 4 leases, at the default timings', () => {
  it('a KCL 3.x worker queries the GSI on its discovery cadence and never scans; renewals as in 2.x', async () => {
    const stream = await createStream(kinesis, 4)
    const ids = (await listAllShards(kinesis, stream)).map((s) => s.ShardId!)
    const figures: Record<string, Record<string, number>> = {}
    for (const mode of ['2.x', '3.x'] as const) {
      const table = uniqueName(`requests-${mode.replace('.', '')}`)
      const fleet = new Fleet(stream, table, DEFAULTS)
      const client = dynamoDBClient()
      const counts = counting(client)
      try {
        const options: Partial<KinesisConsumerOptions> = {
          dynamoDBClient: client,
          ...(mode === '3.x' ? ({ [KCL3_WORKER_MODE]: {} } as Partial<KinesisConsumerOptions>) : {}),
        }
        const worker = await fleet.start('worker', options)
        if (mode === '3.x') for (const id of ids) await javaAssign(dynamodb, table, id, 'worker')
        await waitFor('4 leases', () => worker.leases.length === 4, 30_000)
        counts.clear()
        await sleep(WINDOW_MS)
        figures[mode] = Object.fromEntries([...counts].map(([name, count]) => [name, perHour(count)]))
      } finally {
        await fleet.close()
        client.destroy()
      }
    }
    console.log(`requests per worker-hour (idle, 4 leases, ${WINDOW_MS} ms measured): ${JSON.stringify(figures)}`)
    const threeX = figures['3.x']!
    // Discovery every 500 ms: 7,200 an hour (slack either way for a loaded machine), and no Scan at all.
    expect(threeX.QueryCommand).toBeGreaterThan(3_600)
    expect(threeX.QueryCommand).toBeLessThan(8_500)
    expect(threeX.ScanCommand ?? 0).toBe(0)
    // Renewals of 4 leases every 3,308 ms: about 4,350 an hour, in both modes.
    expect(threeX.UpdateItemCommand).toBeLessThan(6_000)
    expect(figures['2.x']!.ScanCommand).toBeGreaterThan(2_700)
  })
})

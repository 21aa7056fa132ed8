import { rmSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { KinesisConsumer } from '../../packages/consumer/src/index.js'
import { FAST, Fleet, putAll, waitFor } from '../consumer/support/harness.js'
import { compareSequence } from '../consumer/support/sequence.js'
import { createStream, kinesisClient, uniqueName } from '../support/aws.js'
import { processorModule, useLog } from './support/harness.js'

let cleanup: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const step of cleanup.reverse()) await step()
  cleanup = []
})

const KEYS = 20
const PER_KEY = 20

describe('KinesisConsumer with processorModule on kinesis-local', () => {
  it('processes in worker threads with two lanes per shard: per-key order, checkpoints reach the end, a restart redelivers nothing', async () => {
    const log = useLog()
    cleanup.push(() => rmSync(log.dir, { recursive: true, force: true }))
    // Fleet only for its clients and lease reader; the workers here are built directly.
    const setup = kinesisClient()
    const streamName = await createStream(setup, 2, 'workers')
    setup.destroy()
    const applicationName = uniqueName('workers-app')
    const fleet = new Fleet(streamName, applicationName)
    cleanup.push(() => fleet.close())
    const startWorker = async (workerId: string) => {
      const worker = new KinesisConsumer({
        streamName,
        applicationName,
        workerId,
        initialPosition: 'TRIM_HORIZON',
        kinesisClient: fleet.kinesis,
        dynamoDBClient: fleet.dynamodb,
        ...FAST,
        processorModule,
        workerThreads: 2,
        lanesPerShard: 2,
      })
      await worker.start()
      return worker
    }

    const records = Array.from({ length: KEYS * PER_KEY }, (_, n) => {
      const key = `key-${n % KEYS}`
      return { partitionKey: key, data: Buffer.from(`${key}:${Math.floor(n / KEYS)}`) }
    })
    const first = await startWorker('worker-1')
    let firstStopped = false
    cleanup.push(() => (firstStopped ? undefined : first.shutdown()))
    await putAll(fleet.kinesis, streamName, records)
    await waitFor('every record processed', () => new Set(log.lines('record').map((l) => l[7])).size === records.length)

    const lines = log.lines('record')
    // Both lanes of a shard worked, on more than one thread overall.
    expect(new Set(lines.map((l) => `${l[1]}/${l[2]}`)).size).toBe(4)
    expect(new Set(lines.map((l) => l[4])).size).toBeGreaterThan(1)
    const byKey = new Map<string, number[]>()
    for (const line of lines) {
      const [key, n] = line[7]!.split(':')
      byKey.set(key!, [...(byKey.get(key!) ?? []), Number(n)])
    }
    for (const [key, seen] of byKey) expect(seen, key).toEqual([...seen].sort((a, b) => a - b))

    // The shard checkpoint follows the slowest lane and reaches each shard's last record.
    const lastByShard = new Map<string, string>()
    for (const line of lines) {
      const previous = lastByShard.get(line[1]!)
      if (
        previous === undefined ||
        compareSequence(
          { sequenceNumber: line[8]!, subSequenceNumber: 0 },
          { sequenceNumber: previous, subSequenceNumber: 0 },
        ) > 0
      )
        lastByShard.set(line[1]!, line[8]!)
    }
    await waitFor('checkpoints at the last records', async () => {
      const leases = await fleet.leases()
      return [...lastByShard].every(([shardId, last]) => leases.get(shardId)?.checkpoint.sequenceNumber === last)
    })

    await first.shutdown()
    firstStopped = true
    const before = log.lines('record').length
    const second = await startWorker('worker-2')
    cleanup.push(() => second.shutdown())
    await waitFor('the restarted worker holds both leases', async () => {
      const leases = await fleet.leases()
      return [...leases.values()].filter((lease) => lease.leaseOwner === 'worker-2').length === 2
    })
    await waitFor('its lanes initialized from the checkpoints', () =>
      log.lines('event').some((l) => l[5]?.startsWith('initialize:') && l[5] !== 'initialize:TRIM_HORIZON'),
    )
    // Give it a few read rounds: nothing at or below the checkpoints comes back.
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    expect(log.lines('record').length).toBe(before)
  })
})

import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { PutRecordsCommand } from '@aws-sdk/client-kinesis'
import { sleep } from '@kinesis-ts/shared'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { CONSUMER_DEFAULTS } from '../../packages/consumer/src/index.js'
import { ensureLeaseTable } from '../../packages/consumer/src/leases/lease-table.js'
import { waitFor } from '../consumer/support/harness.js'
import { createStream, dynamoDBClient, endpoints, kinesisClient, listAllShards, uniqueName } from '../support/aws.js'

/*
 * Failover and handoff between worker processes at the KCL default timings (failoverTimeMillis
 * 10 s, nothing else set), on the built packages. The bounds here carry generous slack for a busy
 * machine; benchmarks/consumer holds the exact targets (crash: failoverTimeMillis + 2 s; graceful: 2 s).
 */

const WORKER = fileURLToPath(new URL('./fixtures/worker.mjs', import.meta.url))
const SLACK_MS = 4_000
const kinesis = kinesisClient()
const dynamodb = dynamoDBClient()
afterAll(() => {
  kinesis.destroy()
  dynamodb.destroy()
})

interface WorkerEvent {
  readonly type: string
  readonly workerId: string
  readonly at: number
  readonly shardId?: string
  readonly sequenceNumber?: string
  readonly leases?: string[]
}

class Worker {
  readonly events: WorkerEvent[] = []
  readonly process: ChildProcess
  constructor(
    readonly id: string,
    stream: string,
    app: string,
  ) {
    const { kinesis: k, dynamodb: d } = endpoints()
    this.process = spawn(process.execPath, [WORKER, k, d, stream, app, id], { stdio: ['pipe', 'pipe', 'inherit'] })
    createInterface({ input: this.process.stdout! }).on('line', (line) => {
      if (line.startsWith('{')) this.events.push(JSON.parse(line) as WorkerEvent)
    })
  }
  leases(): string[] {
    return this.events.findLast((e) => e.type === 'leases')?.leases ?? []
  }
  records(): WorkerEvent[] {
    return this.events.filter((e) => e.type === 'record')
  }
  async stop(): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return
    const exited = new Promise((resolve) => this.process.once('exit', resolve))
    this.process.kill('SIGKILL')
    await exited
  }
}

let workers: Worker[] = []
afterEach(async () => {
  await Promise.all(workers.map((w) => w.stop()))
  workers = []
})

/** Puts one record into every shard each 100 ms until stopped, so every shard always has a next record. */
async function produce(stream: string) {
  const shards = await listAllShards(kinesis, stream)
  let stopped = false
  let n = 0
  const done = (async () => {
    while (!stopped) {
      await kinesis.send(
        new PutRecordsCommand({
          StreamName: stream,
          Records: shards.map((shard) => ({
            PartitionKey: 'k',
            ExplicitHashKey: shard.HashKeyRange!.StartingHashKey!,
            Data: Buffer.from(`${shard.ShardId}:${n}`),
          })),
        }),
      )
      n++
      await sleep(100)
    }
  })()
  return {
    stop: async () => {
      stopped = true
      await done
    },
  }
}

async function twoWorkers(stream: string) {
  const app = uniqueName('failover')
  // These are the 2.x failover targets (issue 14): a table shaped as Java 2.x leaves it (no
  // LeaseOwnerToLeaseKeyIndex), on which the default options run the 2.x taker and expiry watch.
  await ensureLeaseTable(dynamodb, app, AbortSignal.timeout(30_000), { leaseOwnerIndex: false })
  const a = new Worker('a', stream, app)
  workers.push(a)
  await waitFor('worker a holding every lease', () => a.leases().length === 4, 60_000)
  const b = new Worker('b', stream, app)
  workers.push(b)
  await waitFor('worker b processing', () => b.events.some((e) => e.type === 'started'), 60_000)
  // b steals one lease at its first taker round; a notices at its next renewal. Wait until they agree.
  await waitFor(
    'each worker holding leases, disjoint, all four',
    () => {
      const held = [...a.leases(), ...b.leases()]
      return a.leases().length > 0 && b.leases().length > 0 && held.length === 4 && new Set(held).size === 4
    },
    60_000,
  )
  await sleep(500)
  return { a, b }
}

/** For each shard, how long after `from` worker `to` delivered its first record of that shard. */
function resumed(to: Worker, shards: string[], from: number): Map<string, number> {
  const out = new Map<string, number>()
  for (const shardId of shards) {
    const first = to.records().find((e) => e.shardId === shardId && e.at > from)
    if (first !== undefined) out.set(shardId, first.at - from)
  }
  return out
}

describe('failover between worker processes at the KCL defaults', () => {
  it('a SIGKILLed worker: each of its shards processes its next record on the survivor within failoverTimeMillis + 2 s (+ slack)', async () => {
    const stream = await createStream(kinesis, 4)
    const producer = await produce(stream)
    try {
      const { a, b } = await twoWorkers(stream)
      const orphaned = a.leases()
      expect(orphaned.length).toBeGreaterThan(0)
      const killedAt = Date.now()
      await a.stop()
      const bound = CONSUMER_DEFAULTS.failoverTimeMillis + 2_000 + SLACK_MS
      await waitFor(
        'every orphaned shard resumed',
        () => resumed(b, orphaned, killedAt).size === orphaned.length,
        bound,
      )
      const times = resumed(b, orphaned, killedAt)
      console.log(`[failover] crash → resumed per shard (ms): ${JSON.stringify(Object.fromEntries(times))}`)
      // Not before expiry either: a lease is taken once its counter stood still for failoverTimeMillis
      // after the dead worker's last renewal, which came at most one renewal interval before the kill.
      const renewalInterval = CONSUMER_DEFAULTS.failoverTimeMillis / 3
      for (const ms of times.values())
        expect(ms).toBeGreaterThanOrEqual(CONSUMER_DEFAULTS.failoverTimeMillis - renewalInterval - 1_000)
      for (const ms of times.values()) expect(ms).toBeLessThanOrEqual(bound)
    } finally {
      await producer.stop()
    }
  })

  it('graceful shutdown(): each shard resumes on the other worker within 2 s (+ slack), after the checkpoint written in shutdownRequested', async () => {
    const stream = await createStream(kinesis, 4)
    const producer = await produce(stream)
    try {
      const { a, b } = await twoWorkers(stream)
      const handedOver = a.leases()
      expect(handedOver.length).toBeGreaterThan(0)
      const shutdownAt = Date.now()
      a.process.stdin!.write('shutdown\n')
      const bound = 2_000 + SLACK_MS
      await waitFor(
        'every shard resumed',
        () => resumed(b, handedOver, shutdownAt).size === handedOver.length,
        bound + 10_000,
      )
      const times = resumed(b, handedOver, shutdownAt)
      console.log(`[failover] graceful → resumed per shard (ms): ${JSON.stringify(Object.fromEntries(times))}`)
      for (const ms of times.values()) expect(ms).toBeLessThanOrEqual(bound)
      await waitFor('worker a stopped', () => a.events.some((e) => e.type === 'stopped'), 30_000)
      // Nothing at or below the final checkpoint is delivered again.
      for (const shardId of handedOver) {
        const checkpoint = a.events.findLast((e) => e.type === 'checkpointed' && e.shardId === shardId)?.sequenceNumber
        const after = b.records().filter((e) => e.shardId === shardId && e.at > shutdownAt)
        if (checkpoint === undefined) continue
        expect(after.filter((e) => BigInt(e.sequenceNumber!) <= BigInt(checkpoint))).toEqual([])
      }
    } finally {
      await producer.stop()
    }
  })
})

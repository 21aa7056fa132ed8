import { rmSync } from 'node:fs'
import { sleep } from '@kinesis-ts/shared'
import { afterAll, describe, expect, it } from 'vitest'
import { KinesisConsumer, type KinesisConsumerOptions } from '../../packages/consumer/src/index.js'
import { KCL3_WORKER_MODE } from '../../packages/consumer/src/kcl3/worker-mode.js'
import { KinesisProducer, UserRecordFailedError } from '../../packages/producer/src/index.js'
import { FAST, putAll, waitFor } from '../consumer/support/harness.js'
import { startRelay } from '../fanout/support/h2-relay.js'
import { javaAssign } from '../kcl3/support/java-writes-worker.js'
import {
  clientOptions,
  createStream,
  dynamoDBClient,
  endpoints,
  kinesisClient,
  listAllShards,
  uniqueName,
} from '../support/aws.js'
import { grownSince, liveResources } from '../support/live-resources.js'
import { processorModule, useLog } from '../workers/support/harness.js'

type TimerCallback = (...args: unknown[]) => void

/**
 * Runs `run` while watching every timer created on this thread, unref'd ones included (which
 * getActiveResourcesInfo does not list), and returns where the ones still pending afterwards came from.
 */
async function timersLeftBy(run: () => Promise<void>, settle: () => Promise<unknown>): Promise<string[]> {
  const pending = new Map<unknown, string>()
  const { setTimeout, setInterval, clearTimeout, clearInterval } = globalThis
  const origin = (kind: string, ms: number | undefined) =>
    `${kind}(${ms}) ${new Error().stack?.split('\n')[3]?.trim() ?? 'at an unknown place'}`
  Object.assign(globalThis, {
    setTimeout: (callback: TimerCallback, ms?: number, ...args: unknown[]) => {
      const timer = setTimeout(
        (...given: unknown[]) => {
          pending.delete(timer)
          callback(...given)
        },
        ms,
        ...args,
      )
      pending.set(timer, origin('setTimeout', ms))
      return timer
    },
    setInterval: (callback: TimerCallback, ms?: number, ...args: unknown[]) => {
      const timer = setInterval(callback, ms, ...args)
      pending.set(timer, origin('setInterval', ms))
      return timer
    },
    clearTimeout: (timer: NodeJS.Timeout | undefined) => {
      pending.delete(timer)
      clearTimeout(timer)
    },
    clearInterval: (timer: NodeJS.Timeout | undefined) => {
      pending.delete(timer)
      clearInterval(timer)
    },
  })
  try {
    await run()
    await settle()
  } finally {
    Object.assign(globalThis, { setTimeout, setInterval, clearTimeout, clearInterval })
  }
  return [...pending.values()]
}

/** Handles and timers that `run` left behind. */
async function leftBehind(run: () => Promise<void>): Promise<{ handles: Record<string, number>; timers: string[] }> {
  const before = liveResources()
  let handles: Record<string, number> = {}
  const timers = await timersLeftBy(run, async () => {
    handles = await grownSince(before)
  })
  return { handles, timers }
}

const nothing = { handles: {}, timers: [] }

const admin = kinesisClient()
afterAll(() => admin.destroy())

const records = Array.from({ length: 300 }, (_, i) => ({ partitionKey: `key-${i % 30}`, data: `record-${i}` }))

/** A consumer of `streamName` on the run's servers, from TRIM_HORIZON, with its own lease table. */
function consumerOf(streamName: string, options: Partial<KinesisConsumerOptions>): KinesisConsumer {
  return new KinesisConsumer({
    streamName,
    applicationName: uniqueName('leaks'),
    initialPosition: 'TRIM_HORIZON',
    ...clientOptions(endpoints().kinesis),
    dynamoDBEndpoint: endpoints().dynamodb,
    ...FAST,
    ...options,
  } as KinesisConsumerOptions)
}

async function produceAndConsume(
  streamName: string,
  consumerOptions: Partial<KinesisConsumerOptions>,
  consumed?: () => number,
) {
  const options = clientOptions(endpoints().kinesis)
  const producer = new KinesisProducer({ streamName, ...options, recordMaxBufferedTime: 20 })
  await Promise.all(records.map((record) => producer.addUserRecord(record)))
  await producer.close()

  const seen = new Set<string>()
  const consumer = consumerOf(streamName, {
    processorFactory: () => ({
      initialize: () => {},
      processRecords: async ({ records: batch, checkpointer }) => {
        for (const record of batch) seen.add(Buffer.from(record.data).toString())
        await checkpointer.checkpoint()
      },
      leaseLost: () => {},
      shardEnded: ({ checkpointer }) => checkpointer.checkpoint(),
      shutdownRequested: ({ checkpointer }) => checkpointer.checkpoint(),
    }),
    ...consumerOptions,
  })
  await consumer.start()
  await waitFor('every record consumed', () => (consumed?.() ?? seen.size) === records.length)
  await consumer.shutdown()
}

describe('nothing left behind', () => {
  it('a producer closed and a polling consumer shut down leave no timer, socket or handle of theirs', async () => {
    const streamName = await createStream(admin, 2, 'leaks')
    expect(await leftBehind(() => produceAndConsume(streamName, {}))).toEqual(nothing)
  })

  it('the same for a KCL 3.x worker (internal switch): discovery, handoff check and renewal loops end with shutdown', async () => {
    const streamName = await createStream(admin, 2, 'leaks')
    const shardIds = (await listAllShards(admin, streamName)).map((s) => s.ShardId!)
    const applicationName = uniqueName('leaks-kcl3')
    const left = await leftBehind(async () => {
      const dynamodb = dynamoDBClient()
      try {
        const seen = new Set<string>()
        const consumer = consumerOf(streamName, {
          applicationName,
          [KCL3_WORKER_MODE]: {},
          processorFactory: () => ({
            initialize: () => {},
            processRecords: async ({ records: batch, checkpointer }) => {
              for (const record of batch) seen.add(Buffer.from(record.data).toString())
              await checkpointer.checkpoint()
            },
            leaseLost: () => {},
            shardEnded: ({ checkpointer }) => checkpointer.checkpoint(),
            shutdownRequested: ({ checkpointer }) => checkpointer.checkpoint(),
          }),
        } as Partial<KinesisConsumerOptions>)
        await consumer.start()
        await putAll(
          admin,
          streamName,
          records.slice(0, 50).map((r) => ({ ...r, data: Buffer.from(r.data) })),
        )
        // The leader's part, written as the Java leader writes it.
        for (const id of shardIds) await javaAssign(dynamodb, applicationName, id, consumer.workerId)
        await waitFor('every record consumed', () => seen.size === 50)
        await consumer.shutdown()
      } finally {
        dynamodb.destroy()
      }
    })
    expect(left).toEqual(nothing)
  })

  it.each([
    ['3x', 'leader lock heartbeat, lease assignment, metrics reporter, discovery'],
    ['compatibleWith2x', 'the 2.x taker beside the metrics reporter and both migration monitors'],
  ] as const)('the same in KCL 3.x mode %s (%s), shut down and destroyed', async (clientVersionConfig, _components) => {
    const streamName = await createStream(admin, 2, 'leaks')
    const kcl3 = {
      clientVersionConfig,
      leaseAssignmentIntervalMillis: 1_000,
      workerMetricsReporterFreqInMillis: 1_000,
      dynamoDbLockBasedLeaderLeaseDurationInMillis: 2_000,
      dynamoDbLockBasedLeaderHeartbeatPeriodInMillis: 500,
    } satisfies Partial<KinesisConsumerOptions>
    expect(await leftBehind(() => produceAndConsume(streamName, kcl3))).toEqual(nothing)
    const left = await leftBehind(async () => {
      const consumer = consumerOf(streamName, {
        ...kcl3,
        processorFactory: () => ({
          initialize: () => {},
          processRecords: () => {},
          leaseLost: () => {},
          shardEnded: () => {},
          shutdownRequested: () => {},
        }),
      })
      await consumer.start()
      await waitFor('a lease held', () => consumer.leases.length > 0, 20_000)
      await consumer.destroy()
    })
    expect(left).toEqual(nothing)
  })

  it('the same with worker-thread processing: the pool and its ports are gone after shutdown', async () => {
    const log = useLog()
    try {
      const streamName = await createStream(admin, 2, 'leaks')
      const left = await leftBehind(() =>
        produceAndConsume(
          streamName,
          { processorFactory: undefined, processorModule, workerThreads: 2, lanesPerShard: 2 },
          () => new Set(log.lines('record').map((line) => line[7])).size,
        ),
      )
      expect(left).toEqual(nothing)
    } finally {
      rmSync(log.dir, { recursive: true, force: true })
    }
  })

  it('the same with enhanced fan-out over HTTP/2: every subscription session is closed after shutdown', async () => {
    const streamName = await createStream(admin, 2, 'leaks')
    // kinesis-local's own HTTP/2 breaks in Node: the h2c relay test fixture stands in front of it.
    const relay = await startRelay(endpoints().kinesis, 'h2')
    try {
      const left = await leftBehind(() =>
        produceAndConsume(streamName, {
          // The consumer's own client to the relay (HTTP/1.1), and subscriptions derived from it on
          // HTTP/2 sessions of their own.
          endpoint: relay.endpoint,
          retrieval: { mode: 'fanout', httpVersion: '2', closedShardCheckIntervalMs: 1_000 },
        }),
      )
      expect(left).toEqual(nothing)
      expect(relay.subscriptions).toBeGreaterThan(0)
      // Seen from the server too: no session of ours is still open.
      await waitFor('the relay sees every session closed', () => relay.openConnections === 0, 5_000)
    } finally {
      await relay.close()
    }
  })

  it('destroy() with records in flight, a consumer destroyed mid-batch and a shutdown that runs out of time leave nothing behind either', async () => {
    const streamName = await createStream(admin, 1, 'leaks')
    await putAll(
      admin,
      streamName,
      records.map(({ partitionKey, data }) => ({ partitionKey, data: Buffer.from(data) })),
    )
    const options = clientOptions(endpoints().kinesis)
    const outcomes: unknown[] = []
    const left = await leftBehind(async () => {
      const producer = new KinesisProducer({ streamName, ...options, recordMaxBufferedTime: 1 })
      const pending = records.map((record) => producer.addUserRecord(record).catch((error: unknown) => error))
      await sleep(5)
      producer.destroy()
      outcomes.push(...(await Promise.all(pending)))

      // A processor that never returns from processRecords: only destroy() or the shutdown timeout end it.
      let batches = 0
      const stuck = () => ({
        initialize: () => {},
        processRecords: () => {
          batches++
          return new Promise<void>(() => {})
        },
        leaseLost: () => {},
        shardEnded: () => {},
        shutdownRequested: () => {},
      })
      for (const stop of ['shutdown', 'destroy'] as const) {
        const consumer = consumerOf(streamName, {
          shutdownTimeoutMillis: 300,
          processorFactory: stuck,
          // Room to read ahead for a long time: a prefetch loop that outlived its consumer would still be busy.
          retrieval: { mode: 'polling', maxPendingBatches: 1_000 },
        })
        await consumer.start()
        const before = batches
        await waitFor('a batch stuck in processRecords', () => batches > before)
        await consumer[stop]()
      }
    })
    expect(outcomes.length).toBe(records.length)
    expect(outcomes.some((o) => o instanceof UserRecordFailedError && o.errorCode === 'Destroyed')).toBe(true)
    expect(left).toEqual(nothing)
  })

  it('a worker-thread processor stuck in processRecords: a timed-out shutdown and destroy() still end its threads', async () => {
    const log = useLog()
    try {
      const streamName = await createStream(admin, 1, 'leaks')
      // The fixture processor sleeps on this record far longer than the test runs.
      await putAll(admin, streamName, [{ partitionKey: 'k', data: Buffer.from('sleep:600000') }])
      const left = await leftBehind(async () => {
        for (const stop of ['shutdown', 'destroy'] as const) {
          const consumer = consumerOf(streamName, {
            shutdownTimeoutMillis: 300,
            processorFactory: undefined,
            processorModule,
            workerThreads: 2,
          })
          await consumer.start()
          await waitFor('the batch reached the worker thread', () =>
            log.lines('event').some((line) => line[5]?.startsWith('initialize')),
          )
          await sleep(200)
          await consumer[stop]()
          rmSync(log.path, { force: true })
        }
      })
      expect(left).toEqual(nothing)
    } finally {
      rmSync(log.dir, { recursive: true, force: true })
    }
  })
})

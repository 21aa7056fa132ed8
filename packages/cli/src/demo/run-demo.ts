import { randomUUID } from 'node:crypto'
import { KinesisConsumer, type PoisonRecord } from '@kinesis-ts/consumer'
import { KinesisProducer } from '@kinesis-ts/producer'
import { type Logger, silentLogger, sleep } from '@kinesis-ts/shared'
import { clientOptionsFor, dynamoDBClientFor, kinesisClientFor, startBackends } from '../backends.js'
import { ensureStream } from '../streams.js'
import { DeliveryTracker } from './delivery-tracker.js'
import { measureHandoff } from './handoff.js'
import { leasesByOwner, readLeases } from './lease-watch.js'
import { LiveView } from './live-view.js'
import { DemoProcessor } from './processor.js'
import { produceDemoRecords } from './produce.js'
import { POISON_RECORD } from './record-format.js'
import { splitOneShard } from './reshard.js'
import { type DemoSummary, summarize } from './summary.js'
import { DEMO_CHANNEL_VARIABLE } from './worker-processor.js'

export interface DemoOptions {
  readonly records: number
  readonly keys: number
  readonly recordBytes: number
  readonly shards: number
  readonly split: boolean
  /** Give up when no new record has been consumed for this long. */
  readonly stallTimeoutMs: number
  readonly workerThreads: number
  /** Also put one record every processor throws on, and dead-letter it (processingErrorPolicy). */
  readonly poison: boolean
  readonly out: NodeJS.WriteStream
  readonly signal: AbortSignal
  readonly logger?: Logger
}

const WORKER_A = 'worker-a (in-thread)'
const WORKER_B = 'worker-b (worker threads)'

/**
 * The whole job in one run: a producer writing while two consumer workers share a lease table,
 * a shard split halfway, a graceful shutdown of one worker near the end, then a verification of
 * everything that was delivered. Every resource is released on every path, Ctrl-C included.
 */
export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const { out, signal } = options
  const logger = options.logger ?? silentLogger
  const startedAt = performance.now()
  out.write('Starting kinesis-local and dynalite...\n')
  const backends = await startBackends()
  const cleanups: (() => Promise<unknown> | unknown)[] = [() => backends.stop()]
  try {
    const kinesis = kinesisClientFor(backends.kinesisEndpoint)
    const dynamodb = dynamoDBClientFor(backends.dynamodbEndpoint)
    cleanups.push(
      () => kinesis.destroy(),
      () => dynamodb.destroy(),
    )
    const runId = randomUUID().slice(0, 8)
    const streamName = `kinesis-ts-demo-${runId}`
    const applicationName = `kinesis-ts-demo-${runId}`
    out.write(`Kinesis ${backends.kinesisEndpoint}, DynamoDB ${backends.dynamodbEndpoint}\n`)
    out.write(`Creating stream ${streamName} with ${options.shards} shards...\n`)
    await ensureStream(kinesis, streamName, options.shards, signal)

    const tracker = new DeliveryTracker(options.records, options.keys)
    const deadLetters: PoisonRecord[] = []
    process.env[DEMO_CHANNEL_VARIABLE] = `kinesis-ts-demo-${runId}`
    cleanups.push(tracker.listenToWorkerThreads(process.env[DEMO_CHANNEL_VARIABLE], WORKER_B))

    const consumerOptions = {
      streamName,
      applicationName,
      kinesisClient: kinesis,
      dynamoDBClient: dynamodb,
      initialPosition: 'TRIM_HORIZON' as const,
      // Short timings so a demo of a few seconds shows lease balancing, lineage and handoff.
      failoverTimeMillis: 3000,
      // Released leases are picked up on the next taker pass: a short pass makes the handoff visible.
      leaseTakerIntervalMillis: 500,
      shardSyncIntervalMillis: 2000,
      parentShardPollIntervalMillis: 200,
      idleTimeBetweenReadsInMillis: 100,
      logger,
      ...(options.poison
        ? {
            processingErrorPolicy: {
              maxAttempts: 3,
              deadLetter: (poison: PoisonRecord) => void deadLetters.push(poison),
            },
            // The poison record's isolation takes a few dozen tries: short pauses keep it brief.
            processingRetryBackoffBaseMillis: 20,
            processingRetryBackoffMaxMillis: 200,
          }
        : {}),
    }
    const workerA = new KinesisConsumer({
      ...consumerOptions,
      workerId: WORKER_A,
      processorFactory: () => new DemoProcessor((report) => tracker.record(WORKER_A, report)),
    })
    const workerB = new KinesisConsumer({
      ...consumerOptions,
      workerId: WORKER_B,
      // This file is bundled into dist/bin.js; the processor module is its own entry beside it.
      processorModule: new URL('./demo/worker-processor.js', import.meta.url),
      workerThreads: options.workerThreads,
    })
    cleanups.push(
      () => workerB.shutdown(),
      () => workerA.shutdown(),
    )
    await Promise.all([workerA.start(), workerB.start()])

    const producer = new KinesisProducer({ streamName, ...clientOptionsFor(backends.kinesisEndpoint), logger })
    cleanups.push(() => producer.destroy())

    let leases = new Map<string, string[]>()
    let phase = 'producing'
    const view = new LiveView(
      () => progressLines(phase, tracker, leases, production.sent, options.records, startedAt),
      out,
    )
    for (const [worker, name] of [
      [workerA, WORKER_A],
      [workerB, WORKER_B],
    ] as const) {
      worker.on('consumer.record_dead_lettered', (event) =>
        view.log(
          `${name} dead-lettered the poison record of ${event.shardId} (${event.sequenceNumber}/${event.subSequenceNumber}) after ${event.attempts} failed processRecords calls; the shard moved on`,
        ),
      )
    }
    const poisonPut = options.poison ? producer.addUserRecord(POISON_RECORD) : undefined
    const production = produceDemoRecords(producer, options, signal, () => {
      if (!options.split) return
      void splitOneShard(kinesis, streamName, signal).then(
        (split) => view.log(`Split ${split.parent} into ${split.children.join(' and ')} while producing`),
        (error: unknown) => view.log(`Split failed: ${(error as Error).message}`),
      )
    })
    const leaseWatch = watchLeases(dynamodb, applicationName, signal, (next) => {
      leases = next
    })
    cleanups.push(() => leaseWatch.stop())
    view.start()
    cleanups.push(() => view.stop())

    // Near the end, stop one worker gracefully while it still has work; the other must take over.
    const handoffAt = Math.floor(options.records * 0.75)
    await tracker.waitFor((t) => t.unique >= handoffAt, options.stallTimeoutMs, signal)
    phase = 'handoff'
    view.log(`${WORKER_A} shutting down gracefully at ${tracker.unique.toLocaleString('en-US')} records consumed`)
    const handoff = await measureHandoff(
      dynamodb,
      applicationName,
      WORKER_A,
      WORKER_B,
      () => workerA.shutdown(),
      signal,
    )
    view.log(
      `${WORKER_B} owns all ${handoff.shards} of its leases ${handoff.ms.toFixed(0)} ms after the shutdown began`,
    )

    const produced = await production.done
    await poisonPut
    phase = 'draining'
    await tracker
      .waitFor((t) => t.unique >= produced.successful, options.stallTimeoutMs, signal)
      .catch(() => {
        // A stall is reported by the verification below, not as a crash.
      })
    if (options.poison) {
      await waitUntil(() => deadLetters.length > 0, options.stallTimeoutMs, signal).catch(() => {
        // Reported by the verification.
      })
    }
    const consumedAt = performance.now()
    await producer.close()
    view.stop()
    return summarize({
      ledger: tracker.ledger.report(),
      produced,
      latencies: tracker.latencies,
      perWorker: tracker.perWorker,
      handoff,
      deadLettered: options.poison ? deadLetters.length : undefined,
      consumeSeconds: (consumedAt - tracker.firstDeliveryAt) / 1000,
      totalSeconds: (consumedAt - startedAt) / 1000,
    })
  } finally {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup()
      } catch (error) {
        logger.warn({ err: error }, 'demo cleanup step failed')
      }
    }
  }
}

async function waitUntil(done: () => boolean, timeoutMs: number, signal: AbortSignal): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!done()) {
    if (performance.now() > deadline) throw new Error('timed out')
    await sleep(50, signal)
  }
}

function watchLeases(
  dynamodb: Parameters<typeof readLeases>[0],
  tableName: string,
  signal: AbortSignal,
  onLeases: (byOwner: Map<string, string[]>) => void,
): { stop(): void } {
  const controller = new AbortController()
  const both = AbortSignal.any([signal, controller.signal])
  void (async () => {
    while (!both.aborted) {
      try {
        onLeases(leasesByOwner(await readLeases(dynamodb, tableName, both)))
        await sleep(500, both)
      } catch {
        if (both.aborted) return
        await sleep(500, both).catch(() => undefined)
      }
    }
  })()
  return { stop: () => controller.abort() }
}

function progressLines(
  phase: string,
  tracker: DeliveryTracker,
  leases: Map<string, string[]>,
  sent: number,
  total: number,
  startedAt: number,
): string[] {
  const fmt = (n: number) => n.toLocaleString('en-US')
  const seconds = ((performance.now() - startedAt) / 1000).toFixed(1)
  const lines = [
    `[${seconds}s] ${phase}`,
    `produced ${bar(sent / total)} ${fmt(sent)} / ${fmt(total)}`,
    `consumed ${bar(tracker.unique / total)} ${fmt(tracker.unique)} / ${fmt(total)}  (duplicates ${fmt(tracker.ledger.delivered - tracker.unique)}, backlog ${fmt(Math.max(0, sent - tracker.unique))})`,
  ]
  for (const [worker, count] of tracker.perWorker) {
    const held = leases.get(worker) ?? []
    lines.push(`  ${worker.padEnd(26)} ${fmt(count).padStart(9)} records  ${held.length} leases ${held.join(' ')}`)
  }
  return lines
}

function bar(fraction: number, width = 24): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width)
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`
}

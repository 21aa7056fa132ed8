import { rmSync } from 'node:fs'
import { InMemoryMetrics, ShardMap } from '@kinesis-ts/shared'
import { afterEach, describe, expect, it } from 'vitest'
import type {
  ConsumerEvents,
  DeadLetterPolicy,
  KinesisConsumer,
  PoisonRecord,
  ProcessRecordsInput,
} from '../../packages/consumer/src/index.js'
import { lanesOf } from '../../packages/consumer/src/workers/index.js'
import { createStream, kinesisClient, listAllShards } from '../support/aws.js'
import { useLog } from '../workers/support/harness.js'
import { FAST, Fleet, keysFor, putAll, waitFor } from './support/harness.js'
import { compareSequence } from './support/sequence.js'

/*
 * Poison records against kinesis-local and dynalite: 5,000 records over 4 shards, 3 that always throw
 * and 1 that throws twice, under processingErrorPolicy { maxAttempts: 3, deadLetter }.
 */

let cleanup: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const step of cleanup.reverse()) await step()
  cleanup = []
})

const SHARDS = 4
const KEYS_PER_SHARD = 25
const PER_KEY = 50
const MAX_RECORDS = 250
/** Fast backoff: a poison record's isolation takes dozens of tries. */
const BACKOFF = { processingRetryBackoffBaseMillis: 5, processingRetryBackoffMaxMillis: 20 }
const poisonModule = new URL('../workers/fixtures/poison-processor.ts', import.meta.url)

interface Delivered {
  readonly shardId: string
  readonly lane: number
  readonly partitionKey: string
  readonly data: string
  readonly sequenceNumber: string
}

/** The stream, its records in put order (data `key:i`, a suffix marking the special ones) and which is which. */
async function poisonedStream() {
  const setup = kinesisClient()
  cleanup.push(() => setup.destroy())
  const streamName = await createStream(setup, SHARDS, 'poison')
  const shards = await listAllShards(setup, streamName)
  const map = new ShardMap(shards)
  const shardIds = shards.map((s) => s.ShardId!)
  const keysByShard = shardIds.map((shardId, i) => keysFor(map, shardId, KEYS_PER_SHARD, `s${i}`))
  const keys = Array.from(
    { length: SHARDS * KEYS_PER_SHARD },
    (_, k) => keysByShard[k % SHARDS]![Math.floor(k / SHARDS)]!,
  )
  // Two poison records on the first shard, one and the flaky record on the second, the others clean.
  const poison = new Set([`${keysByShard[0]![0]}:10`, `${keysByShard[0]![3]}:30`, `${keysByShard[1]![1]}:20`])
  const flaky = `${keysByShard[1]![2]}:25`
  const records: { partitionKey: string; data: string }[] = []
  for (let i = 0; i < PER_KEY; i++) {
    for (const key of keys) {
      const base = `${key}:${i}`
      records.push({
        partitionKey: key,
        data: poison.has(base) ? `${base}:poison` : base === flaky ? `${base}:flaky` : base,
      })
    }
  }
  await putAll(
    setup,
    streamName,
    records.map((r) => ({ partitionKey: r.partitionKey, data: Buffer.from(r.data) })),
  )
  const shardOf = (key: string) => shardIds[keysByShard.findIndex((ks) => ks.includes(key))]!
  return {
    streamName,
    shardIds,
    records,
    poisonData: records.filter((r) => r.data.endsWith(':poison')).map((r) => r.data),
    flakyData: `${flaky}:flaky`,
    shardOf,
  }
}

/** The in-thread processor's rules, as the worker fixture has them: poison always throws, flaky twice. */
function throwingRules() {
  const flakyFailures = new Map<string, number>()
  return ({ records }: ProcessRecordsInput) => {
    const data = records.map((r) => Buffer.from(r.data).toString())
    const poison = data.find((d) => d.endsWith(':poison'))
    if (poison !== undefined) throw new Error(`poison record ${poison}`)
    for (const flaky of data.filter((d) => d.endsWith(':flaky'))) {
      const failed = flakyFailures.get(flaky) ?? 0
      if (failed < 2) {
        flakyFailures.set(flaky, failed + 1)
        throw new Error(`flaky record ${flaky}`)
      }
    }
  }
}

interface Outcome {
  readonly stream: Awaited<ReturnType<typeof poisonedStream>>
  readonly delivered: Delivered[]
  readonly deadLettered: PoisonRecord[]
  readonly events: ConsumerEvents['consumer.record_dead_lettered'][]
  readonly deadLetterFailures: number
  readonly metrics: InMemoryMetrics
  readonly worker: KinesisConsumer
  readonly leaseCheckpoints: () => Promise<Map<string, string>>
}

/**
 * Consumes the poisoned stream with one worker until every record is processed or dead-lettered and
 * each shard's checkpoint is at its last record. `deadLetterFailures` first calls of deadLetter throw.
 */
async function consume(options: {
  bisectOnError: boolean
  workerThreads?: boolean
  deadLetterFailures?: number
}): Promise<Outcome> {
  const stream = await poisonedStream()
  const deadLettered: PoisonRecord[] = []
  let deadLetterCalls = 0
  const policy: DeadLetterPolicy = {
    maxAttempts: 3,
    bisectOnError: options.bisectOnError,
    deadLetter: async (poison) => {
      deadLetterCalls++
      if (deadLetterCalls <= (options.deadLetterFailures ?? 0)) throw new Error('dead-letter destination unavailable')
      deadLettered.push(poison)
    },
  }
  const metrics = new InMemoryMetrics()
  const fleet = new Fleet(
    stream.streamName,
    `${stream.streamName}-app`,
    { ...BACKOFF, maxRecords: MAX_RECORDS, metrics, processingErrorPolicy: policy },
    { onRecords: throwingRules() },
  )
  cleanup.push(() => fleet.close())
  let delivered: () => Delivered[]
  let worker: KinesisConsumer
  if (options.workerThreads === true) {
    const log = useLog()
    cleanup.push(() => rmSync(log.dir, { recursive: true, force: true }))
    worker = await fleet.start('worker-1', {
      processorFactory: undefined,
      processorModule: poisonModule,
      workerThreads: 2,
      lanesPerShard: 2,
    })
    delivered = () =>
      log.lines('record').map((f) => ({
        shardId: f[1]!,
        lane: Number(f[2]),
        partitionKey: f[6]!,
        data: f[7]!,
        sequenceNumber: f[8]!,
      }))
  } else {
    worker = await fleet.start('worker-1')
    delivered = () => fleet.journal.deliveries.map((d) => ({ ...d, lane: 0 }))
  }
  const events: ConsumerEvents['consumer.record_dead_lettered'][] = []
  worker.on('consumer.record_dead_lettered', (event) => events.push(event))
  let failures = 0
  worker.on('consumer.dead_letter_failed', () => failures++)

  const expected = stream.records.length - stream.poisonData.length
  await waitFor('every record processed or dead-lettered', () => {
    return deadLettered.length === stream.poisonData.length && new Set(delivered().map((d) => d.data)).size === expected
  })
  const leaseCheckpoints = async () =>
    new Map([...(await fleet.leases()).values()].map((lease) => [lease.leaseKey, lease.checkpoint.sequenceNumber]))
  // Each shard's checkpoint reaches its last record, whatever it was (processed or dead-lettered).
  const lastOf = new Map<string, string>()
  for (const { shardId, sequenceNumber } of [
    ...delivered(),
    ...deadLettered.map((p) => ({ shardId: p.shardId, sequenceNumber: p.record.sequenceNumber })),
  ]) {
    const last = lastOf.get(shardId)
    if (last === undefined || BigInt(sequenceNumber) > BigInt(last)) lastOf.set(shardId, sequenceNumber)
  }
  expect([...lastOf.keys()].sort()).toEqual([...stream.shardIds].sort())
  await waitFor('every checkpoint at its shard end', async () => {
    const checkpoints = await leaseCheckpoints()
    return stream.shardIds.every((shardId) => checkpoints.get(shardId) === lastOf.get(shardId))
  })
  return {
    stream,
    delivered: delivered(),
    deadLettered,
    events,
    deadLetterFailures: failures,
    metrics,
    worker,
    leaseCheckpoints,
  }
}

/** The claims every variant must meet. */
function expectPoisonIsolated(outcome: Outcome, attempts: { min: number; max: number }): void {
  const { stream, delivered, deadLettered, events } = outcome
  // deadLetter got exactly the poison records, each once, with the shard and error they came with.
  expect(deadLettered.map((p) => Buffer.from(p.record.data).toString()).sort()).toEqual([...stream.poisonData].sort())
  for (const poison of deadLettered) {
    expect(poison.shardId).toBe(stream.shardOf(poison.record.partitionKey))
    expect(poison.attempts % 3, 'every piece holding it failed maxAttempts times').toBe(0)
    expect(poison.attempts).toBeGreaterThanOrEqual(attempts.min)
    expect(poison.attempts).toBeLessThanOrEqual(attempts.max)
  }
  expect(events.map((e) => `${e.shardId}/${e.sequenceNumber}/${e.subSequenceNumber}/${e.attempts}`).sort()).toEqual(
    deadLettered.map((p) => `${p.shardId}/${p.record.sequenceNumber}/0/${p.attempts}`).sort(),
  )
  // Everything else, the flaky record included, was processed at least once; the poison ones never.
  const data = new Set(delivered.map((d) => d.data))
  expect(data.has(stream.flakyData)).toBe(true)
  for (const poison of stream.poisonData) expect(data.has(poison)).toBe(false)
  expect(data.size).toBe(stream.records.length - stream.poisonData.length)
  // Per-key order among the processed records: first deliveries in put order, the poison ones left out.
  const firstSeen = new Map<string, string[]>()
  for (const d of delivered) {
    const seen = firstSeen.get(d.partitionKey) ?? []
    if (!seen.includes(d.data)) seen.push(d.data)
    firstSeen.set(d.partitionKey, seen)
  }
  const put = new Map<string, string[]>()
  for (const r of stream.records) {
    if (!r.data.endsWith(':poison')) put.set(r.partitionKey, [...(put.get(r.partitionKey) ?? []), r.data])
  }
  expect(firstSeen.size).toBe(put.size)
  for (const [key, order] of put) expect(firstSeen.get(key), `order of ${key}`).toEqual(order)
  // Sequence order of first deliveries within each shard (each lane of it, with worker threads).
  for (const slot of new Set(delivered.map((d) => `${d.shardId}/${d.lane}`))) {
    const sequences = [
      ...new Set(delivered.filter((d) => `${d.shardId}/${d.lane}` === slot).map((d) => d.sequenceNumber)),
    ]
    const sorted = [...sequences].sort((a, b) =>
      compareSequence({ sequenceNumber: a, subSequenceNumber: 0 }, { sequenceNumber: b, subSequenceNumber: 0 }),
    )
    expect(sequences, slot).toEqual(sorted)
  }
  const dead = outcome.metrics.snapshot().filter((m) => m.name === 'RecordsDeadLettered')
  expect(dead.reduce((sum, m) => sum + m.sum, 0)).toBe(stream.poisonData.length)
  const stats = outcome.worker.stats().shards
  expect(stats.reduce((sum, s) => sum + s.recordsDeadLettered, 0)).toBe(stream.poisonData.length)
}

/**
 * A poison record does not hold back other keys beyond its isolation: `slots` (shards, or shard lanes)
 * that held no special record had each of their records delivered exactly once.
 */
function expectCleanSlotsDeliveredOnce(
  outcome: Outcome,
  slotOf: (d: { shardId: string; partitionKey: string }) => string,
) {
  const { stream, delivered } = outcome
  const special = new Set(
    stream.records
      .filter((r) => r.data.endsWith(':poison') || r.data.endsWith(':flaky'))
      .map((r) => slotOf({ shardId: stream.shardOf(r.partitionKey), partitionKey: r.partitionKey })),
  )
  const clean = stream.records.filter(
    (r) => !special.has(slotOf({ shardId: stream.shardOf(r.partitionKey), partitionKey: r.partitionKey })),
  )
  expect(clean.length).toBeGreaterThanOrEqual(stream.records.length / 2)
  const cleanData = new Set(clean.map((r) => r.data))
  const deliveries = delivered.filter((d) => cleanData.has(d.data))
  expect(deliveries).toHaveLength(clean.length)
  expect(new Set(deliveries.map((d) => d.data)).size).toBe(clean.length)
}

/** Pieces of a batch of at most MAX_RECORDS: maxAttempts tries at each of 1 + ceil(log2(MAX_RECORDS)) levels. */
const BISECT_ATTEMPTS = { min: 3, max: 3 * (1 + Math.ceil(Math.log2(MAX_RECORDS))) }

describe('poison records: bounded retries, isolation, dead letters', () => {
  it('bisectOnError: exactly the poison records are dead-lettered; the flaky one and the rest processed in per-key order; checkpoints reach the end', async () => {
    const outcome = await consume({ bisectOnError: true })
    expectPoisonIsolated(outcome, BISECT_ATTEMPTS)
    expectCleanSlotsDeliveredOnce(outcome, (d) => d.shardId)
    expect(outcome.deadLetterFailures).toBe(0)
  })

  it('bisectOnError false: each record of a failing batch tried alone; the same outcome', async () => {
    const outcome = await consume({ bisectOnError: false })
    // 3 tries of the batch, 3 of the record alone.
    expectPoisonIsolated(outcome, { min: 6, max: 6 })
    expectCleanSlotsDeliveredOnce(outcome, (d) => d.shardId)
  })

  it('worker threads with 2 lanes: isolation within the failing lane, deadLetter in the main thread', async () => {
    const outcome = await consume({ bisectOnError: true, workerThreads: true })
    expectPoisonIsolated(outcome, BISECT_ATTEMPTS)
    const laneOf = (key: string) => lanesOf([{ partitionKey: key } as Parameters<typeof lanesOf>[0][number]], 2)[0] ?? 0
    expectCleanSlotsDeliveredOnce(outcome, (d) => `${d.shardId}/${laneOf(d.partitionKey)}`)
    // The processor's error, rebuilt in the main thread.
    for (const poison of outcome.deadLettered) {
      expect(poison.error).toMatchObject({
        code: 'ERR_WORKER_PROCESSING',
        remote: { message: `poison record ${Buffer.from(poison.record.data).toString()}` },
      })
    }
    for (const d of outcome.delivered) expect(d.lane).toBe(laneOf(d.partitionKey))
  })

  it('a deadLetter that fails twice is called again: nothing lost, nothing skipped; stats and events show the failures', async () => {
    const outcome = await consume({ bisectOnError: true, deadLetterFailures: 2 })
    expectPoisonIsolated(outcome, BISECT_ATTEMPTS)
    expect(outcome.deadLetterFailures).toBe(2)
    expect(outcome.worker.stats().shards.reduce((sum, s) => sum + s.deadLetterFailures, 0)).toBe(2)
  })

  it('a restart in the middle of isolating: the next worker isolates the poison record again and dead-letters it; nothing below the checkpoint comes again', async () => {
    const setup = kinesisClient()
    cleanup.push(() => setup.destroy())
    const streamName = await createStream(setup, 1, 'poison-restart')
    const records = Array.from({ length: 200 }, (_, i) => ({
      partitionKey: `k-${i % 10}`,
      data: Buffer.from(i === 120 ? `k-${i % 10}:${i}:poison` : `k-${i % 10}:${i}`),
    }))
    await putAll(setup, streamName, records)
    const fleet = new Fleet(streamName, `${streamName}-app`, BACKOFF)
    cleanup.push(() => fleet.close())
    const deliveredTo = new Map<string, string[]>()
    const behaviour = (workerId: string) => {
      const rules = throwingRules()
      return {
        onRecords: (input: ProcessRecordsInput) => {
          // Every delivery, the ones that throw included.
          deliveredTo.set(workerId, [
            ...(deliveredTo.get(workerId) ?? []),
            ...input.records.map((r) => r.sequenceNumber),
          ])
          rules(input)
        },
      }
    }
    const dead: { workerId: string; poison: PoisonRecord }[] = []
    const policy = (workerId: string, fails: boolean): DeadLetterPolicy => ({
      maxAttempts: 3,
      deadLetter: (poison) => {
        if (fails) throw new Error('dead-letter stream unavailable')
        dead.push({ workerId, poison })
      },
    })

    const first = await fleet.start(
      'worker-1',
      { processingErrorPolicy: policy('worker-1', true) },
      behaviour('worker-1'),
    )
    let failed = 0
    first.on('consumer.dead_letter_failed', () => failed++)
    await waitFor('deadLetter failing on worker-1', () => failed >= 2)
    // Stuck on the poison record: the stats say why; the checkpoint is right below it.
    const [stats] = first.stats().shards
    expect(stats!.deadLetterFailures).toBeGreaterThanOrEqual(2)
    expect(stats!.recordsDeadLettered).toBe(0)
    expect(stats!.lastError).toBe('Error: dead-letter stream unavailable')
    const before = fleet.journal.deliveries.find((d) => d.data === 'k-9:119')!.sequenceNumber
    await waitFor('the checkpoint at the record before the poison one', async () => {
      const [lease] = (await fleet.leases()).values()
      return lease?.checkpoint.sequenceNumber === before
    })
    await first.shutdown()
    const [released] = (await fleet.leases()).values()
    expect(released!.checkpoint).toEqual({ sequenceNumber: before, subSequenceNumber: 0 })
    expect(dead).toEqual([])

    await fleet.start('worker-2', { processingErrorPolicy: policy('worker-2', false) }, behaviour('worker-2'))
    await waitFor('the poison record dead-lettered by worker-2', () => dead.length === 1)
    await waitFor('every other record processed', () => fleet.journal.distinctData().size === 199)
    const [{ workerId, poison }] = dead as [(typeof dead)[number]]
    expect(workerId).toBe('worker-2')
    expect(Buffer.from(poison.record.data).toString()).toBe('k-0:120:poison')
    // worker-2 got the 80 records from the poison one on: 3 tries at each of at most 1 + ceil(log2(80)) levels.
    expect(poison.attempts % 3).toBe(0)
    expect(poison.attempts).toBeGreaterThanOrEqual(3)
    expect(poison.attempts).toBeLessThanOrEqual(3 * (1 + Math.ceil(Math.log2(80))))
    // worker-2 started from the checkpoint and was never given a record at or below it.
    const initialized = fleet.journal.callsOf('initialize').filter((c) => c.workerId === 'worker-2')
    expect(initialized.map((c) => c.detail)).toEqual([{ sequenceNumber: before, subSequenceNumber: 0 }])
    const second = deliveredTo.get('worker-2')!
    expect(second.length).toBeGreaterThan(0)
    for (const sequence of second) expect(BigInt(sequence)).toBeGreaterThan(BigInt(before))
    const last = fleet.journal.deliveries.find((d) => d.data === 'k-9:199')!.sequenceNumber
    await waitFor('the checkpoint at the last record', async () => {
      const [lease] = (await fleet.leases()).values()
      return lease?.checkpoint.sequenceNumber === last
    })
  })
})

import { SplitShardCommand } from '@aws-sdk/client-kinesis'
import { createKinesisClient, sleep } from '@kinesis-ts/shared'
import { afterEach, describe, expect, it } from 'vitest'
import { KinesisProducer, UserRecordFailedError } from '../../packages/producer/src/index.js'
import { Fleet, putAll, waitFor } from '../consumer/support/harness.js'
import { startKinesisProxy } from '../consumer/support/kinesis-proxy.js'
import {
  type DocumentedMetric,
  consumerMetricsTable,
  dimensionSetKey,
  producerMetricsTable,
} from '../docs/metric-tables.js'
import { startFaultProxy } from '../producer/support/fault-proxy.js'
import {
  clientOptions,
  createStream,
  endpoints,
  kinesisClient,
  listAllShards,
  uniqueName,
  waitForStreamActive,
} from '../support/aws.js'
import { startCloudWatchCapture } from '../support/cloudwatch-capture.js'

/*
 * The documented names come from the package READMEs' metrics tables, which test/docs checks against
 * PRODUCER_METRICS / CONSUMER_METRICS. Every one of them is produced here, through the cloudWatch option
 * and the real SDK, against kinesis-local and dynalite: errors and expiry through the fault proxy,
 * throttled reads through the Kinesis proxy, lease moves with two workers, cleanup after a split.
 * Polling only: with fan-out the GetRecords.* metrics are not published (the table says so).
 */

let cleanup: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const step of cleanup.reverse()) await step()
  cleanup = []
})

type Capture = Awaited<ReturnType<typeof startCloudWatchCapture>>

interface Published {
  readonly units: Set<string>
  /** Sum and maximum per set of dimension names ('' for none, 'ShardId,StreamName', ...). */
  readonly bySet: Map<string, { sum: number; max: number }>
}

/** What reached the capture under `namespace`, per metric name. */
function published(capture: Capture, namespace: string): Map<string, Published> {
  const out = new Map<string, Published>()
  for (const request of capture.requests) {
    if (request.Namespace !== namespace) continue
    for (const datum of request.MetricData) {
      let entry = out.get(datum.MetricName)
      if (entry === undefined) {
        entry = { units: new Set(), bySet: new Map() }
        out.set(datum.MetricName, entry)
      }
      entry.units.add(datum.Unit)
      const set = dimensionSetKey((datum.Dimensions ?? []).map((d) => d.Name))
      const stats = entry.bySet.get(set) ?? { sum: 0, max: Number.NEGATIVE_INFINITY }
      stats.sum += datum.StatisticValues.Sum
      stats.max = Math.max(stats.max, datum.StatisticValues.Maximum)
      entry.bySet.set(set, stats)
    }
  }
  return out
}

/** Every documented metric reached CloudWatch with its documented unit and dimensions; nothing else did. */
function expectExactly(documented: readonly DocumentedMetric[], seen: Map<string, Published>): void {
  expect([...seen.keys()].sort()).toEqual(documented.map((m) => m.name).sort())
  for (const metric of documented) {
    const entry = seen.get(metric.name)!
    expect([...entry.units], `${metric.name} unit`).toEqual([metric.unit])
    expect([...entry.bySet.keys()].sort(), `${metric.name} dimensions`).toEqual([...metric.dimensionSets].sort())
  }
}

describe('every documented metric, and only those, reaches CloudWatch', () => {
  it('producer: the KPL metrics, error and expiry ones included, at their documented granularities', async () => {
    const cloudWatch = await startCloudWatchCapture()
    cleanup.push(() => cloudWatch.close())
    const kinesis = kinesisClient()
    cleanup.push(() => kinesis.destroy())
    const streamName = await createStream(kinesis, 2, 'metrics-producer')
    // A third of the entries throttled: ErrorsByCode, AllErrors and RetriesPerRecord > 0 appear.
    const proxy = await startFaultProxy(endpoints().kinesis, { throttleShare: 0.3 })
    cleanup.push(() => proxy.close())
    const options = { streamName, ...clientOptions(proxy.endpoint), cloudWatch: { endpoint: cloudWatch.endpoint } }

    const producer = new KinesisProducer(options)
    const results = await Promise.all(
      Array.from({ length: 1_000 }, (_, i) => producer.addUserRecord({ partitionKey: `k-${i % 50}`, data: `r-${i}` })),
    )
    await producer.close()
    expect(results.every((r) => r.successful)).toBe(true)
    expect(proxy.counts.throttledEntries).toBeGreaterThan(0)

    // Every entry throttled and a short recordTtl: records expire (UserRecordExpired).
    proxy.plan.throttleShare = 1
    const doomed = new KinesisProducer({ ...options, recordTtl: 300 })
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => doomed.addUserRecord({ partitionKey: `d-${i}`, data: `d-${i}` })),
    )
    await doomed.close()
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected')
      const error = (outcome as PromiseRejectedResult).reason as UserRecordFailedError
      expect(error).toBeInstanceOf(UserRecordFailedError)
      expect(error.errorCode).toBe('Expired')
    }

    const seen = published(cloudWatch, 'KinesisProducerLibrary')
    expectExactly(producerMetricsTable(), seen)
    const global = (name: string) => seen.get(name)!.bySet.get('')!
    expect(global('UserRecordsReceived').sum).toBe(1_020)
    expect(cloudWatch.sum('UserRecordsReceived', { StreamName: streamName })).toBe(1_020)
    expect(global('UserRecordsPut').sum).toBe(1_000)
    expect(global('UserRecordExpired').sum).toBe(20)
    expect(global('RetriesPerRecord').max).toBeGreaterThan(0)
  })

  it('consumer: the KCL metrics of two workers sharing leases, a throttled read, a split shard and a poison record', async () => {
    const cloudWatch = await startCloudWatchCapture()
    cleanup.push(() => cloudWatch.close())
    const setup = kinesisClient()
    cleanup.push(() => setup.destroy())
    const streamName = await createStream(setup, 2, 'metrics-consumer')
    const records = (prefix: string) =>
      Array.from({ length: 100 }, (_, i) => ({ partitionKey: `${prefix}-${i}`, data: Buffer.from(`${prefix}-${i}`) }))
    await putAll(setup, streamName, records('before'))
    // A split before the workers start: the parent ends, its children start from TRIM_HORIZON after it,
    // and once they checkpointed the parent's lease is deleted (CleanedUpLeases).
    const [parent] = await listAllShards(setup, streamName)
    const start = BigInt(parent!.HashKeyRange!.StartingHashKey!)
    const end = BigInt(parent!.HashKeyRange!.EndingHashKey!)
    await setup.send(
      new SplitShardCommand({
        StreamName: streamName,
        ShardToSplit: parent!.ShardId!,
        NewStartingHashKey: ((start + end) / 2n).toString(),
      }),
    )
    await sleep(50)
    await waitForStreamActive(setup, streamName)
    // One poison record among them, under a dead-letter policy: retried, bisected, dead-lettered
    // (ProcessingRetries, ProcessingBisections, RecordsDeadLettered).
    await putAll(setup, streamName, [
      ...records('after'),
      { partitionKey: 'after-poison', data: Buffer.from('poison') },
    ])

    // The first two GetRecords calls are throttled (GetRecords.Throttled, GetRecords.Success 0), and one
    // child cannot get an iterator for 4 s: past shardStallTimeoutMillis it is reset (ShardStalled).
    const stalled = (await listAllShards(setup, streamName)).find((s) => s.ParentShardId === parent!.ShardId)!.ShardId!
    let throttled = 0
    let stallUntil: number | undefined
    const proxy = await startKinesisProxy(endpoints().kinesis, (operation, body) => {
      if (operation === 'GetRecords' && throttled++ < 2)
        return { type: 'ProvisionedThroughputExceededException', message: 'Rate exceeded for shard (injected)' }
      if (operation === 'GetShardIterator' && body.includes(`"${stalled}"`)) {
        stallUntil ??= Date.now() + 4_000
        if (Date.now() < stallUntil) return { type: 'InternalFailure', message: 'injected' }
      }
      return undefined
    })
    cleanup.push(() => proxy.close())
    // No SDK retries: a throttled call reaches the consumer, which counts it.
    const proxied = createKinesisClient({ ...clientOptions(proxy.endpoint), maxAttempts: 1 })
    cleanup.push(() => proxied.destroy())
    const applicationName = uniqueName('metrics-app')
    const { region, credentials } = clientOptions(cloudWatch.endpoint)
    const deadLettered: string[] = []
    const fleet = new Fleet(
      streamName,
      applicationName,
      {
        kinesisClient: proxied,
        cloudWatch: { endpoint: cloudWatch.endpoint, region, credentials },
        shardStallTimeoutMillis: 1_500,
        processingErrorPolicy: {
          maxAttempts: 2,
          deadLetter: (poison) => void deadLettered.push(Buffer.from(poison.record.data).toString()),
        },
      },
      {
        onRecords: ({ records: batch }) => {
          if (batch.some((r) => Buffer.from(r.data).toString() === 'poison')) throw new Error('poison record')
        },
      },
    )
    cleanup.push(() => fleet.close())

    const first = await fleet.start('worker-1')
    let lost = 0
    first.on('consumer.lease_lost', () => lost++)
    const leaseKeys = (await listAllShards(setup, streamName)).map((s) => s.ShardId!)
    await waitFor('worker-1 holding every lease', async () => {
      const leases = await fleet.leases()
      return leaseKeys.every((key) => leases.get(key)?.leaseOwner === 'worker-1')
    })
    // Capped at one lease: its share of 4 leases between 2 workers is 2, so LeaseSpillover is 1; it
    // steals one from worker-1, which loses it (LostLeases).
    await fleet.start('worker-2', { maxLeasesForWorker: 1 })
    await waitFor('a lease lost by worker-1', () => lost > 0)
    await waitFor('every record', () => fleet.journal.distinctData().size === 200, 60_000)
    await waitFor('the poison record dead-lettered', () => deadLettered.length > 0)
    await waitFor('the parent lease deleted', async () => !(await fleet.leases()).has(parent!.ShardId!), 60_000)
    expect(proxy.calls('GetRecords')).toBeGreaterThan(2)
    await fleet.close()

    const seen = published(cloudWatch, applicationName)
    expectExactly(consumerMetricsTable(), seen)
    const worker = (name: string) => seen.get(name)!.bySet.get('')!
    const perShard = (name: string) => seen.get(name)!.bySet.get('ShardId')!
    expect(worker('LeaseSpillover').max).toBe(1)
    expect(worker('LostLeases').sum).toBeGreaterThanOrEqual(1)
    expect(worker('CleanedUpLeases').sum).toBe(1)
    expect(perShard('GetRecords.Throttled').sum).toBe(2)
    expect(perShard('ShardStalled').sum).toBeGreaterThanOrEqual(1)
    expect(perShard('ProcessTask.Success').max).toBe(1)
    // At least once: a lease that moved while the poison record was isolated has it isolated again.
    expect(new Set(deadLettered)).toEqual(new Set(['poison']))
    expect(perShard('RecordsDeadLettered').sum).toBe(deadLettered.length)
    expect(perShard('ProcessingBisections').sum).toBeGreaterThanOrEqual(1)
    expect(perShard('ProcessingRetries').sum).toBeGreaterThanOrEqual(2)
    // At least once: every record counted, redeliveries after the lease move on top.
    expect(perShard('RecordsProcessed').sum).toBeGreaterThanOrEqual(200)
  })
})

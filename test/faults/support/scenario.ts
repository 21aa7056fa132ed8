import { ScanCommand } from '@aws-sdk/client-dynamodb'
import { PutRecordsCommand, type Shard } from '@aws-sdk/client-kinesis'
import { type Logger, ShardMap, hashKeyOf, sleep } from '@kinesis-ts/shared'
import { localCredentials } from '@kinesis-ts/shared/testing'
import { KinesisConsumer, type KinesisConsumerOptions } from '../../../packages/consumer/src/index.js'
import { leaseFromItem } from '../../../packages/consumer/src/leases/lease-serializer.js'
import { ensureLeaseTable } from '../../../packages/consumer/src/leases/lease-table.js'
import type { Lease } from '../../../packages/consumer/src/leases/lease.js'
import { FAST } from '../../consumer/support/harness.js'
import { createStream, dynamoDBClient, endpoints, kinesisClient, listAllShards, uniqueName } from '../../support/aws.js'
import { type FaultProxy, type FaultRule, startFaultProxy } from '../../support/fault-proxy.js'
import { FaultJournal, type Tenure } from './fault-journal.js'
import { type LeaseWrite, leaseWriteOf } from './lease-writes.js'

/** CI-sized by default; FAULTS_WINDOW_MS, FAULTS_RECORDS and FAULTS_SEEDS make a longer soak. */
export const SIZE = {
  windowMs: Number(process.env.FAULTS_WINDOW_MS ?? 5_000),
  records: Number(process.env.FAULTS_RECORDS ?? 3_000),
  keys: 100,
  seeds: (process.env.FAULTS_SEEDS ?? '1,2,3').split(',').map(Number),
}

/** Bounded per-call timeouts (options the consumer is getting): shorter than failoverTimeMillis. */
export const REQUEST_TIMEOUTS = { dynamoDbRequestTimeoutMillis: 1_000, kinesisRequestTimeoutMillis: 2_000 }

/** A hang that outlasts the request timeouts and failoverTimeMillis. */
export const HANG_MS = 6_000

/** After the faults stop: the longest wait for the consumer to catch up, and how long "no change at all" means stuck. */
const SETTLE_DEADLINE_MS = 60_000
const STUCK_MS = 10_000
/** A shard with records waiting and none delivered for this long counts as one stall. */
const STALL_MS = 5_000

type WorkerOptions = KinesisConsumerOptions & {
  readonly dynamoDbRequestTimeoutMillis?: number
  readonly kinesisRequestTimeoutMillis?: number
}

/** Warnings and errors the workers logged, counted by message, for the failure report. */
class CountingLogger implements Logger {
  readonly counts = new Map<string, number>()
  readonly #prefix: string
  constructor(prefix: string, counts?: Map<string, number>) {
    this.#prefix = prefix
    if (counts !== undefined) this.counts = counts
  }
  readonly debug = () => {}
  readonly info = (first: unknown, message?: string) => this.#count('info', first, message)
  readonly warn = (first: unknown, message?: string) => this.#count('warn', first, message)
  readonly error = (first: unknown, message?: string) => this.#count('error', first, message)
  child = () => new CountingLogger(this.#prefix, this.counts)
  #count(level: string, first: unknown, message?: string) {
    const text = typeof first === 'string' ? first : (message ?? '')
    const err = typeof first === 'object' && first !== null ? (first as { err?: { name?: string } }).err : undefined
    const key = `${this.#prefix} ${level} ${text}${err?.name ? ` (${err.name})` : ''}`
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1)
  }
}

export interface FaultRules {
  readonly dynamodb?: readonly FaultRule[]
  readonly kinesis?: readonly FaultRule[]
}

export interface Expectations {
  /** Shards whose lease must end at SHARD_END although the stream still lists them open. */
  readonly shardEnd?: ReadonlySet<string>
}

/** Everything measured at the end of a scenario, for the assertions and the one-line figure. */
export interface Verdict {
  readonly completed: boolean
  readonly waitedMs: number
  readonly why: string
  readonly missing: string[]
  readonly orderViolations: string[]
  readonly checkpointProblems: string[]
  readonly livenessProblems: string[]
  readonly zombieRenewals: string[]
  /** Processors told leaseLost with no consumer.lease_lost event for that worker and shard. */
  readonly silentLosses: string[]
  readonly maxOverlap: { ms: number; detail: string }
  readonly records: number
  readonly deliveries: number
  readonly redeliveries: number
  readonly stalls: number
  readonly longestStallMs: number
  readonly events: { leaseLost: number; shardStalled: number }
  readonly logs: string[]
}

interface Check {
  readonly leases: Map<string, Lease>
  readonly missing: string[]
  readonly checkpointProblems: string[]
  readonly livenessProblems: string[]
}

interface PutRecord {
  readonly data: string
  readonly shardId: string
}

/**
 * One fault scenario: a 4-shard stream, a lease table, a DynamoDB proxy and a Kinesis proxy that all
 * workers go through, workers, a producer numbering each key's records, and the measures of the run.
 */
export class Scenario {
  readonly name: string
  readonly seed: number
  readonly kinesis = kinesisClient()
  readonly dynamodb = dynamoDBClient()
  readonly journal = new FaultJournal()
  readonly workers = new Map<string, KinesisConsumer>()
  readonly stopped = new Set<string>()
  readonly logger = new CountingLogger('')
  readonly leaseWrites: (LeaseWrite & { at: number; committed: boolean; clientSaw: number | string })[] = []
  readonly events = { leaseLost: 0, shardStalled: 0 }
  readonly leaseLostEvents: { workerId: string; shardId: string; at: number }[] = []
  streamName = ''
  readonly applicationName = uniqueName('faults-app')
  dynamoProxy!: FaultProxy
  kinesisProxy!: FaultProxy
  readonly #put = new Map<string, PutRecord>()
  readonly #lastSequence = new Map<string, bigint>()
  readonly #perKey = new Map<string, number>()
  readonly #stalls = { count: 0, longestMs: 0 }
  #sampler: Promise<void> | undefined
  #closed = false

  constructor(name: string, seed: number) {
    this.name = name
    this.seed = seed
  }

  static async start(name: string, seed: number, shards = 4): Promise<Scenario> {
    const scenario = new Scenario(name, seed)
    await scenario.#setUp(shards)
    return scenario
  }

  async #setUp(shards: number): Promise<void> {
    this.streamName = await createStream(this.kinesis, shards, 'faults')
    // The scenarios check the 2.x lease protocol (taker, fencing, expiry): a Java-2.x-shaped table (no
    // LeaseOwnerToLeaseKeyIndex), on which the default options run it.
    await ensureLeaseTable(this.dynamodb, this.applicationName, AbortSignal.timeout(30_000), { leaseOwnerIndex: false })
    // Different seeds for the two proxies, both from the scenario's.
    this.dynamoProxy = await startFaultProxy(endpoints().dynamodb, { seed: this.seed * 2 + 1 })
    this.kinesisProxy = await startFaultProxy(endpoints().kinesis, { seed: this.seed * 2 + 2 })
    this.dynamoProxy.onExchange = (exchange) => {
      if (exchange.request.operation !== 'UpdateItem') return
      this.leaseWrites.push({
        ...leaseWriteOf(exchange.request.body),
        at: exchange.endedAt,
        committed: exchange.upstreamStatus === 200,
        clientSaw: exchange.outcome,
      })
    }
    this.#sampler = this.#sampleStalls()
  }

  /** The sequence number of the last record put to a shard. */
  lastSequenceOf(shardId: string): string | undefined {
    return this.#lastSequence.get(shardId)?.toString()
  }

  keys(): string[] {
    return Array.from({ length: SIZE.keys }, (_, k) => `key-${k}`)
  }

  /** Keys whose records go to any shard but `avoid`. */
  async keysAvoiding(avoid: ReadonlySet<string>): Promise<string[]> {
    const map = new ShardMap(await listAllShards(this.kinesis, this.streamName))
    return this.keys().filter((key) => !avoid.has(map.shardFor(hashKeyOf(key))!))
  }

  async startWorker(workerId: string, options: Partial<WorkerOptions> = {}): Promise<KinesisConsumer> {
    const workerOptions: WorkerOptions = {
      streamName: this.streamName,
      applicationName: this.applicationName,
      workerId,
      initialPosition: 'TRIM_HORIZON',
      region: 'us-east-1',
      credentials: localCredentials,
      endpoint: this.kinesisProxy.endpoint,
      dynamoDBEndpoint: this.dynamoProxy.endpoint,
      ...FAST,
      ...REQUEST_TIMEOUTS,
      logger: this.logger.child(),
      processorFactory: () => this.journal.processor(workerId),
      ...options,
    }
    const worker = new KinesisConsumer(workerOptions)
    worker.on('consumer.lease_lost', ({ shardId }) => {
      this.events.leaseLost++
      this.leaseLostEvents.push({ workerId, shardId, at: Date.now() })
    })
    // A new event, not in ConsumerEvents yet: listened to by name.
    ;(worker.on as (name: string, listener: () => void) => () => void)('consumer.shard_stalled', () => {
      this.events.shardStalled++
    })
    this.workers.set(workerId, worker)
    await worker.start()
    return worker
  }

  /** Graceful shutdown of one worker; resolves with how long it took. */
  async shutdownWorker(workerId: string): Promise<number> {
    const started = Date.now()
    await this.workers.get(workerId)!.shutdown()
    this.stopped.add(workerId)
    return Date.now() - started
  }

  /** Puts `count` records, one round over `keys` at a time, spread over `durationMs`. */
  async produce(count: number, durationMs = 0, keys = this.keys()): Promise<void> {
    const rounds = Math.ceil(count / keys.length)
    const started = Date.now()
    let left = count
    for (let round = 0; round < rounds; round++) {
      const batch = keys.slice(0, Math.min(keys.length, left)).map((key) => {
        const index = this.#perKey.get(key) ?? 0
        this.#perKey.set(key, index + 1)
        return { key, data: `${key}:${index}` }
      })
      left -= batch.length
      await this.#putAll(batch)
      const due = started + ((round + 1) * durationMs) / rounds
      if (due > Date.now()) await sleep(due - Date.now())
    }
  }

  async #putAll(batch: { key: string; data: string }[]): Promise<void> {
    let pending = batch
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 20) throw new Error('PutRecords kept failing')
      const out = await this.kinesis.send(
        new PutRecordsCommand({
          StreamName: this.streamName,
          Records: pending.map((r) => ({ PartitionKey: r.key, Data: Buffer.from(r.data) })),
        }),
      )
      const failed: typeof pending = []
      for (const [i, record] of pending.entries()) {
        const result = out.Records?.[i]
        if (result?.ErrorCode !== undefined || result?.ShardId === undefined) {
          failed.push(record)
          continue
        }
        this.#put.set(record.data, { data: record.data, shardId: result.ShardId })
        const sequence = BigInt(result.SequenceNumber!)
        if (sequence > (this.#lastSequence.get(result.ShardId) ?? -1n)) this.#lastSequence.set(result.ShardId, sequence)
      }
      // One record per key per round, and a round is put whole before the next: order per key holds.
      pending = failed
      if (pending.length > 0) await sleep(100)
    }
  }

  /**
   * Turns the window's rules on, runs `during` (producing, resharding...), then turns them off;
   * `lasting` rules stay on to the end (a shard that is gone stays gone).
   */
  async withFaults(window: FaultRules, during: () => Promise<void>, lasting: FaultRules = {}): Promise<void> {
    this.dynamoProxy.rules = [...(lasting.dynamodb ?? []), ...(window.dynamodb ?? [])]
    this.kinesisProxy.rules = [...(lasting.kinesis ?? []), ...(window.kinesis ?? [])]
    try {
      await during()
    } finally {
      this.dynamoProxy.rules = lasting.dynamodb ?? []
      this.kinesisProxy.rules = lasting.kinesis ?? []
    }
  }

  async leases(): Promise<Map<string, Lease>> {
    const out = new Map<string, Lease>()
    let startKey: Record<string, never> | undefined
    do {
      const page = await this.dynamodb.send(
        new ScanCommand({ TableName: this.applicationName, ConsistentRead: true, ExclusiveStartKey: startKey }),
      )
      for (const item of page.Items ?? []) {
        const lease = leaseFromItem(item)
        if (lease !== undefined) out.set(lease.leaseKey, lease)
      }
      startKey = page.LastEvaluatedKey as Record<string, never> | undefined
    } while (startKey !== undefined)
    return out
  }

  /** Samples each shard's progress: records waiting and none delivered for STALL_MS is a stall. */
  async #sampleStalls(): Promise<void> {
    const progress = new Map<string, { delivered: number; since: number; stalled: boolean }>()
    while (!this.#closed) {
      const now = Date.now()
      const perShard = new Map<string, { put: number; delivered: number }>()
      for (const record of this.#put.values()) {
        const entry = perShard.get(record.shardId) ?? { put: 0, delivered: 0 }
        entry.put++
        if (this.journal.distinct.has(record.data)) entry.delivered++
        perShard.set(record.shardId, entry)
      }
      for (const [shardId, { put, delivered }] of perShard) {
        const last = progress.get(shardId)
        if (last === undefined || delivered > last.delivered || put === delivered) {
          progress.set(shardId, { delivered, since: now, stalled: false })
          continue
        }
        const stalledFor = now - last.since
        if (stalledFor > STALL_MS && !last.stalled) {
          last.stalled = true
          this.#stalls.count++
        }
        if (last.stalled) this.#stalls.longestMs = Math.max(this.#stalls.longestMs, stalledFor)
      }
      await sleep(250)
    }
  }

  /** The shards, the lease table and the journal checked against every claim at this moment. */
  async #check(expect: Expectations): Promise<Check> {
    const shards = await listAllShards(this.kinesis, this.streamName)
    const leases = await this.leases()
    const missing = [...this.#put.keys()].filter((data) => !this.journal.distinct.has(data))
    return {
      leases,
      missing,
      checkpointProblems: this.#checkpointProblems(shards, leases, expect),
      livenessProblems: this.#livenessProblems(leases),
    }
  }

  #checkpointProblems(shards: Shard[], leases: Map<string, Lease>, expect: Expectations): string[] {
    const problems: string[] = []
    for (const shard of shards) {
      const shardId = shard.ShardId!
      const lease = leases.get(shardId)
      const closed = shard.SequenceNumberRange?.EndingSequenceNumber !== undefined
      const at = lease?.checkpoint.sequenceNumber
      if (expect.shardEnd?.has(shardId)) {
        if (at !== 'SHARD_END') problems.push(`${shardId}: checkpoint ${at}, expected SHARD_END`)
      } else if (closed) {
        // A finished parent's lease may already be cleaned up.
        if (lease !== undefined && at !== 'SHARD_END') problems.push(`${shardId} (closed): checkpoint ${at}`)
      } else if (lease === undefined) {
        problems.push(`${shardId}: no lease`)
      } else {
        const last = this.#lastSequence.get(shardId)
        if (last !== undefined && at !== last.toString())
          problems.push(`${shardId}: checkpoint ${at}, last put ${last}`)
      }
    }
    return problems
  }

  /** The processor a worker runs for a shard now: the last one initialized, if it has not ended. */
  #live(workerId: string, shardId: string): Tenure | undefined {
    const latest = this.journal.tenures.filter(
      (t) => t.workerId === workerId && t.shardId === shardId && t.initializedAt !== undefined,
    )
    const last = latest.at(-1)
    return last !== undefined && last.end === undefined ? last : undefined
  }

  #lastTenure(workerId: string, shardId: string): string {
    const last = this.journal.tenures.filter((t) => t.workerId === workerId && t.shardId === shardId).at(-1)
    if (last === undefined) return 'it never initialized one'
    const ago = (at: number | undefined) => (at === undefined ? '?' : `${Date.now() - at} ms ago`)
    return `its last one got ${last.end} ${ago(last.endedAt)} after ${last.batches.length} batches`
  }

  /**
   * Each unfinished lease is owned by a running worker whose processor for it is live (initialized
   * after its last leaseLost); no running worker keeps a live processor for a shard it does not own.
   */
  #livenessProblems(leases: Map<string, Lease>): string[] {
    const problems: string[] = []
    for (const lease of leases.values()) {
      if (lease.checkpoint.sequenceNumber === 'SHARD_END') continue
      const owner = lease.leaseOwner
      if (owner === undefined || this.stopped.has(owner) || !this.workers.has(owner)) {
        problems.push(`${lease.leaseKey}: owner ${owner ?? 'none'} is not a running worker`)
      } else if (this.#live(owner, lease.leaseKey) === undefined) {
        const held = this.workers.get(owner)!.leases.includes(lease.leaseKey)
        problems.push(
          `${lease.leaseKey}: owned by ${owner} (${held ? 'held' : 'not held'} by it) with no live processor: ${this.#lastTenure(owner, lease.leaseKey)}`,
        )
      }
    }
    for (const tenure of this.journal.tenures) {
      if (tenure.initializedAt === undefined || tenure.end !== undefined || this.stopped.has(tenure.workerId)) continue
      if (this.#live(tenure.workerId, tenure.shardId) !== tenure) continue
      const owner = leases.get(tenure.shardId)?.leaseOwner
      if (owner !== tenure.workerId)
        problems.push(`${tenure.shardId}: ${tenure.workerId} still runs a processor, lease owned by ${owner}`)
    }
    return problems
  }

  /** A change in any of these means the consumer is still moving. */
  #signature(check: Check): string {
    const leases = [...check.leases.values()].map((l) => `${l.leaseKey}=${l.leaseOwner}@${l.checkpoint.sequenceNumber}`)
    return `${this.journal.distinct.size}|${leases.sort().join(',')}`
  }

  /**
   * Waits (polling, after the faults stopped) until every record is delivered, every checkpoint is
   * at its shard's end and every lease has a live owner; or SETTLE_DEADLINE_MS; or STUCK_MS with no
   * change at all. Then measures everything.
   */
  async settle(expect: Expectations = {}): Promise<Verdict> {
    const started = Date.now()
    let signature = ''
    let changedAt = started
    let check = await this.#check(expect)
    let why = 'complete'
    for (;;) {
      const done =
        check.missing.length === 0 && check.checkpointProblems.length === 0 && check.livenessProblems.length === 0
      if (done) break
      const now = Date.now()
      const current = this.#signature(check)
      if (current !== signature) {
        signature = current
        changedAt = now
      }
      if (now - started > SETTLE_DEADLINE_MS) {
        why = `not complete ${SETTLE_DEADLINE_MS} ms after the faults stopped`
        break
      }
      if (now - changedAt > STUCK_MS) {
        why = `stuck: nothing delivered, no checkpoint or owner changed for ${STUCK_MS} ms`
        break
      }
      await sleep(300)
      check = await this.#check(expect)
    }
    const deliveries = this.journal.deliveries.length
    return {
      completed: why === 'complete',
      waitedMs: Date.now() - started,
      why,
      missing: check.missing,
      orderViolations: this.#orderViolations(),
      checkpointProblems: check.checkpointProblems,
      livenessProblems: check.livenessProblems,
      zombieRenewals: this.#zombieRenewals(),
      silentLosses: this.#silentLosses(),
      maxOverlap: this.#maxOverlap(),
      records: this.#put.size,
      deliveries,
      redeliveries: deliveries - this.journal.distinct.size,
      stalls: this.#stalls.count,
      longestStallMs: this.#stalls.longestMs,
      events: { ...this.events },
      logs: [...this.logger.counts].sort((a, b) => b[1] - a[1]).map(([message, n]) => `${n}× ${message.trim()}`),
    }
  }

  /** Per key, the first delivery of each record must come in the order the records were put. */
  #orderViolations(): string[] {
    const seen = new Set<string>()
    const next = new Map<string, number>()
    const violations: string[] = []
    for (const { data } of this.journal.deliveries) {
      if (seen.has(data)) continue
      seen.add(data)
      const [key, index] = data.split(':') as [string, string]
      const expected = next.get(key) ?? 0
      if (Number(index) !== expected) violations.push(`${key}: ${index} first delivered before ${expected}`)
      next.set(key, Math.max(expected, Number(index) + 1))
    }
    return violations
  }

  /**
   * Renewals that landed for a worker whose processor for that lease had ended (leaseLost or
   * shutdownRequested) while it neither took the lease again nor started a new processor for it
   * within failoverTimeMillis: a lease kept alive for nobody, which no other worker may take.
   */
  #zombieRenewals(): string[] {
    const grace = FAST.failoverTimeMillis / 3
    const out: string[] = []
    for (const write of this.leaseWrites) {
      if (write.kind !== 'renew' || !write.committed || write.owner === undefined) continue
      const tenures = this.journal.tenures.filter((t) => t.workerId === write.owner && t.shardId === write.leaseKey)
      const last = tenures.filter((t) => t.initializedAt! <= write.at).at(-1)
      if (last?.endedAt === undefined || last.end === 'shardEnded' || write.at - last.endedAt < grace) continue
      const endedAt = last.endedAt
      const retaken = this.leaseWrites.some(
        (w) =>
          w.kind === 'take' &&
          w.owner === write.owner &&
          w.leaseKey === write.leaseKey &&
          w.at > endedAt &&
          w.at <= write.at,
      )
      const restarted = tenures.some(
        (t) => t.initializedAt! > endedAt && t.initializedAt! <= write.at + FAST.failoverTimeMillis,
      )
      if (!retaken && !restarted)
        out.push(`${write.owner} renewed ${write.leaseKey} ${write.at - endedAt} ms after its ${last.end}`)
    }
    return out
  }

  /** A processor told leaseLost while its worker never said so (consumer.lease_lost) around then. */
  #silentLosses(): string[] {
    return this.journal.tenures
      .filter((t) => t.end === 'leaseLost')
      .filter(
        (t) =>
          !this.leaseLostEvents.some(
            (e) =>
              e.workerId === t.workerId &&
              e.shardId === t.shardId &&
              e.at >= t.initializedAt! &&
              e.at <= t.endedAt! + FAST.failoverTimeMillis,
          ),
      )
      .map((t) => `${t.workerId}'s processor for ${t.shardId} got leaseLost with no consumer.lease_lost`)
  }

  /** The longest time two workers' processors were both in the middle of batches of one shard. */
  #maxOverlap(): { ms: number; detail: string } {
    const now = Date.now()
    const spans = this.journal.tenures
      .filter((t) => t.batches.length > 0)
      .map((t) => ({
        tenure: t,
        start: t.batches[0]!.start,
        end: t.batches.at(-1)!.end ?? t.endedAt ?? now,
      }))
    let worst = { ms: 0, detail: 'none' }
    for (const a of spans) {
      for (const b of spans) {
        if (a.tenure.id >= b.tenure.id || a.tenure.shardId !== b.tenure.shardId) continue
        if (a.tenure.workerId === b.tenure.workerId) continue
        const overlap = Math.min(a.end, b.end) - Math.max(a.start, b.start)
        if (overlap > worst.ms)
          worst = {
            ms: overlap,
            detail: `${a.tenure.shardId}: ${a.tenure.workerId} and ${b.tenure.workerId} for ${overlap} ms`,
          }
      }
    }
    return worst
  }

  /** The one line per scenario for the report. */
  figure(verdict: Verdict): string {
    const faults = `dynamodb[${this.dynamoProxy.summary()}] kinesis[${this.kinesisProxy.summary()}]`
    return [
      `[faults] ${this.name} seed=${this.seed}`,
      `injected=${this.dynamoProxy.injected() + this.kinesisProxy.injected()}`,
      `records=${verdict.records}`,
      `delivered=${verdict.records - verdict.missing.length}`,
      `redeliveries=${verdict.redeliveries}`,
      `stalls=${verdict.stalls}(longest ${verdict.longestStallMs}ms)`,
      `leaseLost=${verdict.events.leaseLost}`,
      `shardStalledEvents=${verdict.events.shardStalled}`,
      `maxOverlapMs=${verdict.maxOverlap.ms}`,
      `zombieRenewals=${verdict.zombieRenewals.length}`,
      `${verdict.why} after ${verdict.waitedMs}ms`,
      faults,
    ].join(' ')
  }

  /** Stops every worker (bounded: held calls are dropped if they keep a shutdown waiting), then the proxies. */
  async close(): Promise<void> {
    const running = [...this.workers].filter(([id]) => !this.stopped.has(id)).map(([, worker]) => worker)
    const stopping = Promise.all(running.map((worker) => worker.shutdown()))
    const inTime = await Promise.race([
      stopping.then(() => true),
      sleep(FAST.shutdownTimeoutMillis + 5_000).then(() => false),
    ])
    this.dynamoProxy.rules = []
    this.kinesisProxy.rules = []
    await this.dynamoProxy.close()
    await this.kinesisProxy.close()
    if (!inTime) await Promise.race([stopping, sleep(10_000)])
    this.#closed = true
    await this.#sampler
    this.kinesis.destroy()
    this.dynamodb.destroy()
  }
}

import type { KinesisRecord } from './pending.js'
import { ShardRateLimiter } from './rate-limiter.js'

/** Kinesis records waiting for one shard, oldest first, behind that shard's rate limiter. */
export class ShardQueue {
  readonly key: string
  readonly targetKey: string
  readonly shardId: string | undefined
  /** Absent for records sent without a prediction: Kinesis routes them, we cannot meter them. */
  readonly limiter: ShardRateLimiter | undefined
  /** A request holding this shard's records is in flight (see Collector.take). */
  busy = false
  #records: KinesisRecord[] = []
  #head = 0

  constructor(key: string, targetKey: string, shardId: string | undefined, limiter: ShardRateLimiter | undefined) {
    this.key = key
    this.targetKey = targetKey
    this.shardId = shardId
    this.limiter = limiter
  }

  get size(): number {
    return this.#records.length - this.#head
  }

  push(record: KinesisRecord): void {
    this.#records.push(record)
  }

  peek(): KinesisRecord | undefined {
    return this.#records[this.#head]
  }

  shift(): KinesisRecord | undefined {
    const record = this.#records[this.#head]
    if (record === undefined) return undefined
    this.#records[this.#head++] = undefined as unknown as KinesisRecord
    // Compact now and then so a long-lived queue does not keep a long dead prefix.
    if (this.#head > 1024 && this.#head * 2 > this.#records.length) {
      this.#records = this.#records.slice(this.#head)
      this.#head = 0
    }
    return record
  }

  *drain(): Iterable<KinesisRecord> {
    for (let record = this.shift(); record !== undefined; record = this.shift()) yield record
  }
}

export interface Batch {
  readonly records: KinesisRecord[]
  readonly bytes: number
  /** Queues whose records are in it; their `busy` flag is set until release(). */
  readonly queues: ShardQueue[]
}

export interface TakeLimits {
  readonly maxCount: number
  readonly maxBytes: number
  readonly now: number
  /** Records whose oldest user record arrived before this are expired instead of sent. */
  readonly expiredBefore: number
  readonly onExpired: (record: KinesisRecord) => void
}

/**
 * Collects Kinesis records into PutRecords batches that mix shards. With `preserveOrder`, at most one
 * request per shard is in flight, so the records of a partition key reach Kinesis in the order they were
 * added, retries included; without it (the KPL's behaviour) a shard may have several requests and
 * aggregates in flight. Queues take turns so one hot shard cannot starve the rest.
 */
export class Collector {
  readonly #queues = new Map<string, ShardQueue>()
  /** Non-empty queues in turn order. */
  readonly #ready = new Set<ShardQueue>()
  readonly #rateLimit: number
  readonly #preserveOrder: boolean
  #count = 0
  #bytes = 0

  constructor(rateLimitPercent: number, preserveOrder = true) {
    this.#rateLimit = rateLimitPercent
    this.#preserveOrder = preserveOrder
  }

  get count(): number {
    return this.#count
  }

  get bytes(): number {
    return this.#bytes
  }

  queueFor(targetKey: string, shardId: string | undefined, now: number): ShardQueue {
    const key = `${targetKey}|${shardId ?? ''}`
    let queue = this.#queues.get(key)
    if (queue === undefined) {
      queue = new ShardQueue(
        key,
        targetKey,
        shardId,
        shardId === undefined ? undefined : new ShardRateLimiter(this.#rateLimit, now),
      )
      this.#queues.set(key, queue)
    }
    return queue
  }

  add(record: KinesisRecord, now: number): void {
    const queue = this.queueFor(record.target.key, record.predictedShardId, now)
    queue.push(record)
    this.#ready.add(queue)
    this.#count++
    this.#bytes += record.bytes
  }

  /**
   * The next batch that may go now: records of one stream, of idle shards that have rate tokens, up to the limits.
   * `waitMs` says when a rate-limited record could go, if that is what held the batch back.
   */
  take(limits: TakeLimits): Batch & { waitMs: number } {
    const records: KinesisRecord[] = []
    const queues: ShardQueue[] = []
    let bytes = 0
    let waitMs = Number.POSITIVE_INFINITY
    let targetKey: string | undefined
    for (const queue of [...this.#ready]) {
      if (queue.busy || (targetKey !== undefined && queue.targetKey !== targetKey)) continue
      let took = false
      while (records.length < limits.maxCount) {
        const record = queue.peek()
        if (record === undefined) break
        if (record.oldestArrival < limits.expiredBefore) {
          this.#remove(queue)
          limits.onExpired(record)
          continue
        }
        if (bytes + record.bytes > limits.maxBytes) break
        if (queue.limiter !== undefined && !queue.limiter.tryTake(record.bytes, limits.now)) {
          waitMs = Math.min(waitMs, queue.limiter.waitFor(record.bytes, limits.now))
          break
        }
        this.#remove(queue)
        records.push(record)
        bytes += record.bytes
        took = true
        // An aggregate may land on another shard than predicted (a split since the last map). Nothing
        // of the same shard may follow it in this request: its stray records are sent again, and
        // anything of theirs written after them would overtake them.
        if (this.#preserveOrder && record.users.length > 1 && queue.shardId !== undefined) break
      }
      if (queue.size === 0) this.#ready.delete(queue)
      if (took) {
        targetKey = queue.targetKey
        queues.push(queue)
        if (this.#preserveOrder && queue.shardId !== undefined) queue.busy = true
        // Its turn is over: to the back of the line.
        if (queue.size > 0) {
          this.#ready.delete(queue)
          this.#ready.add(queue)
        }
      }
      if (records.length >= limits.maxCount) break
    }
    return { records, bytes, queues, waitMs }
  }

  release(batch: Batch): void {
    for (const queue of batch.queues) queue.busy = false
  }

  /** Takes every queued record of one shard queue out, oldest first. */
  drainQueue(targetKey: string, shardId: string): KinesisRecord[] {
    const queue = this.#queues.get(`${targetKey}|${shardId}`)
    if (queue === undefined) return []
    const records = [...queue.drain()]
    for (const record of records) {
      this.#count--
      this.#bytes -= record.bytes
    }
    this.#ready.delete(queue)
    return records
  }

  /** Every queued record, emptying the collector (destroy). */
  *drainAll(): Iterable<KinesisRecord> {
    for (const queue of this.#ready) yield* queue.drain()
    this.#ready.clear()
    this.#count = 0
    this.#bytes = 0
  }

  /** Earliest arrival among queued records (a scan of queue heads; for diagnostics). */
  oldestArrival(): number {
    let oldest = Number.POSITIVE_INFINITY
    for (const queue of this.#ready) oldest = Math.min(oldest, queue.peek()?.oldestArrival ?? oldest)
    return oldest
  }

  #remove(queue: ShardQueue): void {
    const record = queue.shift()
    if (record === undefined) return
    this.#count--
    this.#bytes -= record.bytes
  }
}

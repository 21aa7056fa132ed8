import { createHash } from 'node:crypto'
import { ListShardsCommand } from '@aws-sdk/client-kinesis'
import { type AggInput, type RecordAggregator, awsKinesisAgg } from '../../lib/aws-kinesis-agg.js'
import { type Contender, type ContenderContext, peerClient } from './context.js'
import { putUntilAccepted } from './put-until-accepted.js'

interface Queued extends AggInput {
  readonly id: number
}

/** A FIFO of records that drops its consumed head now and then instead of shifting per record. */
class RecordQueue {
  #items: Queued[] = []
  #head = 0
  /** Data and key bytes queued. */
  bytes = 0

  get size(): number {
    return this.#items.length - this.#head
  }

  push(item: Queued): void {
    this.#items.push(item)
    this.bytes += item.data.length + item.partitionKey.length
  }

  peek(): Queued | undefined {
    return this.#items[this.#head]
  }

  shift(): void {
    const item = this.#items[this.#head]!
    this.bytes -= item.data.length + item.partitionKey.length
    if (++this.#head > 4096 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head)
      this.#head = 0
    }
  }
}

/** Moves records from the head of `queue` into a fresh aggregate while they fit (1 MiB); their ids in `ids`. */
function aggregateFrom(queue: RecordQueue, ids: number[]): { partitionKey: string; data: Buffer } | undefined {
  const aggregator: RecordAggregator = new awsKinesisAgg.RecordAggregator()
  for (let record = queue.peek(); record !== undefined; record = queue.peek()) {
    if (!aggregator.checkIfUserRecordFits(record)) break
    aggregator.addUserRecord(record)
    ids.push(record.id)
    queue.shift()
  }
  return aggregator.build()
}

/** Hands every new record to `route`, then `afterBatch`, until the feeder has none left. */
async function feedAll(context: ContenderContext, route: (record: Queued) => void, afterBatch: () => void) {
  const { feeder } = context
  const { workload } = feeder
  for (;;) {
    const { from, count } = feeder.take(feeder.total)
    for (let id = from; id < from + count; id++)
      route({ id, partitionKey: workload.keyOf(id), data: workload.dataOf(id) })
    afterBatch()
    if (feeder.exhausted) return
    await feeder.settlement()
  }
}

/**
 * The fair peer, what a user hand-rolls with aws-kinesis-agg in a few lines: the shards from ListShards, each
 * record's shard predicted from the MD5 of its key, one aggregator per shard. Each shard sends one aggregate
 * at a time (all that waited, up to 1 MiB) in a PutRecords call, retried until accepted, so per-key order holds.
 */
export const awsKinesisAggPerShard: Contender = async (context) => {
  // One call per shard in flight: a socket each.
  const client = peerClient(context, 64)
  const { Shards = [] } = await client.send(new ListShardsCommand({ StreamName: context.streamName }))
  const shards = Shards.map((shard) => ({
    start: BigInt(shard.HashKeyRange!.StartingHashKey!),
    end: BigInt(shard.HashKeyRange!.EndingHashKey!),
    queue: new RecordQueue(),
    busy: false,
  }))
  const shardOf = (key: string) => {
    const hashKey = BigInt(`0x${createHash('md5').update(key).digest('hex')}`)
    return shards.find((shard) => shard.start <= hashKey && hashKey <= shard.end)!
  }
  const pump = async (shard: (typeof shards)[number]) => {
    shard.busy = true
    while (shard.queue.size > 0) {
      const ids: number[] = []
      const aggregate = aggregateFrom(shard.queue, ids)!
      await putUntilAccepted(client, context.streamName, [
        { PartitionKey: aggregate.partitionKey, Data: aggregate.data },
      ])
      for (const id of ids) context.feeder.succeed(id)
    }
    shard.busy = false
  }
  await feedAll(
    context,
    (record) => shardOf(record.partitionKey).queue.push(record),
    () => {
      for (const shard of shards) if (!shard.busy && shard.queue.size > 0) void pump(shard)
    },
  )
  await context.feeder.allSettled(context.settleTimeoutMs)
  client.destroy()
}

const FULL_AGGREGATE_BYTES = 1024 * 1024
const MAX_IN_FLIGHT = 24

/**
 * aws-kinesis-agg as its README shows it, and as this benchmark used it before: records aggregated in arrival
 * order into 1 MiB aggregates, each keyed by its first record whatever shard the others hash to, one PutRecords
 * call per aggregate, 24 calls in flight, failed entries retried. Not shard-aware: most user records land on a
 * shard that does not own their key, which a KCL consumer drops.
 */
export const awsKinesisAggUnaware: Contender = async (context) => {
  const client = peerClient(context, MAX_IN_FLIGHT)
  const queue = new RecordQueue()
  let inFlight = 0
  const send = async (aggregate: { partitionKey: string; data: Buffer }, ids: number[]) => {
    inFlight++
    await putUntilAccepted(client, context.streamName, [{ PartitionKey: aggregate.partitionKey, Data: aggregate.data }])
    inFlight--
    for (const id of ids) context.feeder.succeed(id)
    dispatch()
  }
  // Full aggregates go at once; a partial one only when nothing else is in flight (or nothing more will come).
  const dispatch = () => {
    while (queue.size > 0 && inFlight < MAX_IN_FLIGHT) {
      if (queue.bytes < FULL_AGGREGATE_BYTES && inFlight > 0 && !context.feeder.exhausted) return
      const ids: number[] = []
      void send(aggregateFrom(queue, ids)!, ids)
    }
  }
  await feedAll(context, (record) => queue.push(record), dispatch)
  await context.feeder.allSettled(context.settleTimeoutMs)
  client.destroy()
}

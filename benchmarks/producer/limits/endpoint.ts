import { type IncomingMessage, type ServerResponse, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { decodeAggregated } from '@kinesis-ts/shared'
import { DeliveryLedger, type LedgerReport, type LedgerShard } from './ledger.js'
import { seededRandom } from './random.js'
import { KINESIS_SHARD_LIMITS, type ShardLimits, ShardThrottle, byteBucketCapacity } from './token-bucket.js'

export interface LimitedEndpointOptions {
  /** Open shards, with even hash-key ranges. */
  readonly shards: number
  /** Workload records (ids 0..total-1) the ledger expects. */
  readonly total: number
  /** Every answer is held this long (the round trip). */
  readonly delayMs: number
  /** Share of PutRecords entries answered ProvisionedThroughputExceededException whatever the buckets hold. */
  readonly throttleRate: number
  /** Share of PutRecords requests answered 500 InternalFailure, nothing written. */
  readonly errorRate: number
  readonly seed: number
  readonly limits?: ShardLimits
  /** Epoch ms with sub-ms precision; comparable across processes of one machine. */
  readonly now?: () => number
}

export interface EndpointCounters {
  readonly requests: number
  readonly putRecordsRequests: number
  readonly entries: number
  /** Entries refused because a shard's records or bytes bucket was short. */
  readonly throttledByLimit: number
  /** Entries refused at random (throttleRate). */
  readonly throttledInjected: number
  /** Requests answered 500 at random (errorRate). */
  readonly injectedErrors: number
  /** Requests refused whole as Kinesis would (ValidationException): too many entries, too large... */
  readonly invalidRequests: number
  /** Operations this endpoint does not speak, by name: a contender that needs one shows here. */
  readonly unknownOperations: Readonly<Record<string, number>>
  /** Arrival of the first PutRecords request (epoch ms). */
  readonly firstPutAt: number | undefined
}

export interface EndpointReport {
  readonly shards: number
  readonly limits: ShardLimits
  /** Byte capacity of each shard's bucket (its burst). */
  readonly bucketBytes: number
  /**
   * (time, bytes in all shards' byte buckets) after each PutRecords request: how much of the burst is left, so
   * that what a window took out of it is not counted as sustained throughput.
   */
  readonly burstLevels: readonly number[]
  readonly counters: EndpointCounters
  readonly ledger: LedgerReport
}

export interface LimitedEndpoint {
  readonly endpoint: string
  report(): EndpointReport
  close(): Promise<void>
}

export const STREAM_NAME = 'bench'
const MAX_HASH_KEY = 2n ** 128n - 1n
const MAX_ENTRIES = 500
const MAX_DATA_BYTES = 1024 * 1024
const MAX_REQUEST_BYTES = 5 * 1024 * 1024
const DECIMAL = /^(0|[1-9][0-9]{0,38})$/

export const epochNow = () => performance.timeOrigin + performance.now()

/** `count` shards splitting the hash-key space evenly, as a new provisioned stream has them. */
export function evenShards(count: number): LedgerShard[] {
  const width = (MAX_HASH_KEY + 1n) / BigInt(count)
  return Array.from({ length: count }, (_, i) => ({
    shardId: `shardId-${String(i).padStart(12, '0')}`,
    startingHashKey: width * BigInt(i),
    endingHashKey: i === count - 1 ? MAX_HASH_KEY : width * BigInt(i + 1) - 1n,
  }))
}

class RequestError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message)
  }
}

interface PutRecordsEntry {
  readonly Data?: unknown
  readonly PartitionKey?: unknown
  readonly ExplicitHashKey?: unknown
}

interface CheckedEntry {
  readonly data: Buffer
  readonly partitionKey: string
  readonly explicitHashKey: string | undefined
}

/** Kinesis's request checks: a request that fails one is refused whole, before any entry is metered. */
function checkEntries(input: { Records?: unknown }): CheckedEntry[] {
  const records = input.Records
  if (!Array.isArray(records) || records.length === 0 || records.length > MAX_ENTRIES) {
    throw new RequestError(400, 'ValidationException', `Records must hold 1 to ${MAX_ENTRIES} entries`)
  }
  let requestBytes = 0
  return records.map((entry: PutRecordsEntry) => {
    if (typeof entry.Data !== 'string' || typeof entry.PartitionKey !== 'string') {
      throw new RequestError(400, 'ValidationException', 'each entry needs Data and PartitionKey')
    }
    const data = Buffer.from(entry.Data, 'base64')
    const partitionKey = entry.PartitionKey
    if (data.length > MAX_DATA_BYTES || partitionKey.length === 0 || partitionKey.length > 256) {
      throw new RequestError(400, 'ValidationException', 'an entry is over 1 MiB or its key is not 1..256 long')
    }
    requestBytes += data.length + Buffer.byteLength(partitionKey)
    if (requestBytes > MAX_REQUEST_BYTES) {
      throw new RequestError(400, 'ValidationException', 'the request is over 5 MiB')
    }
    const explicitHashKey = typeof entry.ExplicitHashKey === 'string' ? entry.ExplicitHashKey : undefined
    if (explicitHashKey !== undefined && !(DECIMAL.test(explicitHashKey) && BigInt(explicitHashKey) <= MAX_HASH_KEY)) {
      throw new RequestError(400, 'ValidationException', 'ExplicitHashKey must be a decimal in 0..2^128-1')
    }
    return { data, partitionKey, explicitHashKey }
  })
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

/**
 * A loopback Kinesis endpoint for one stream that enforces the per-shard write limits: PutRecords entries
 * are metered against each shard's token buckets (records and bytes: data plus partition key, as Kinesis
 * counts them) and refused one by one with ProvisionedThroughputExceededException when short, as Kinesis does.
 * On top come seeded random throttles and 500s, and a round-trip delay on every answer. Every accepted record
 * is opened (KPL aggregates decoded) and checked by a DeliveryLedger: counts, per-key order, shard ownership.
 * Speaks ListShards, DescribeStreamSummary and PutRecords of the JSON protocol (awsJson1_1).
 */
export async function startLimitedEndpoint(options: LimitedEndpointOptions): Promise<LimitedEndpoint> {
  const now = options.now ?? epochNow
  const limits = options.limits ?? KINESIS_SHARD_LIMITS
  const shards = evenShards(options.shards)
  const startedAt = now()
  const throttles = shards.map(() => new ShardThrottle(limits, startedAt))
  const ledger = new DeliveryLedger(options.total, shards)
  const random = seededRandom(options.seed)
  let sequence = 0n
  const counters = {
    requests: 0,
    putRecordsRequests: 0,
    entries: 0,
    throttledByLimit: 0,
    throttledInjected: 0,
    injectedErrors: 0,
    invalidRequests: 0,
    unknownOperations: {} as Record<string, number>,
    firstPutAt: undefined as number | undefined,
  }
  const burstLevels: number[] = []

  const describeShard = (shard: LedgerShard) => ({
    ShardId: shard.shardId,
    HashKeyRange: {
      StartingHashKey: shard.startingHashKey.toString(),
      EndingHashKey: shard.endingHashKey.toString(),
    },
    SequenceNumberRange: { StartingSequenceNumber: '0' },
  })

  function putRecords(input: { Records?: unknown }, at: number) {
    const entries = checkEntries(input)
    counters.putRecordsRequests++
    counters.firstPutAt ??= at
    if (random() < options.errorRate) {
      counters.injectedErrors++
      throw new RequestError(500, 'InternalFailure', 'injected failure')
    }
    let failed = 0
    const results = entries.map((entry) => {
      counters.entries++
      const shard = ledger.ownerOf(entry.partitionKey, entry.explicitHashKey)
      const shardId = shards[shard]!.shardId
      const metered = entry.data.length + Buffer.byteLength(entry.partitionKey)
      const injected = random() < options.throttleRate
      if (injected || !throttles[shard]!.tryAdmit(metered, at)) {
        if (injected) counters.throttledInjected++
        else counters.throttledByLimit++
        failed++
        return {
          ErrorCode: 'ProvisionedThroughputExceededException',
          ErrorMessage: `Rate exceeded for shard ${shardId} in stream ${STREAM_NAME} under account 000000000000.`,
        }
      }
      const outer = { partitionKey: entry.partitionKey, explicitHashKey: entry.explicitHashKey }
      ledger.accept(shard, decodeAggregated(entry.data, outer), metered)
      return { ShardId: shardId, SequenceNumber: `4${(++sequence).toString().padStart(55, '0')}` }
    })
    ledger.commit(at)
    burstLevels.push(
      at,
      throttles.reduce((sum, throttle) => sum + throttle.bytesAvailable(at), 0),
    )
    return { FailedRecordCount: failed, Records: results }
  }

  function answer(operation: string, body: string, at: number): unknown {
    const input = (body === '' ? {} : JSON.parse(body)) as { Records?: unknown }
    switch (operation) {
      case 'PutRecords':
        return putRecords(input, at)
      case 'ListShards':
        return { Shards: shards.map(describeShard) }
      case 'DescribeStreamSummary':
        return {
          StreamDescriptionSummary: {
            StreamName: STREAM_NAME,
            StreamARN: `arn:aws:kinesis:us-east-1:000000000000:stream/${STREAM_NAME}`,
            StreamStatus: 'ACTIVE',
            StreamModeDetails: { StreamMode: 'PROVISIONED' },
            RetentionPeriodHours: 24,
            StreamCreationTimestamp: Math.floor(startedAt / 1000),
            EnhancedMonitoring: [{ ShardLevelMetrics: [] }],
            EncryptionType: 'NONE',
            OpenShardCount: shards.length,
            ConsumerCount: 0,
          },
        }
      default:
        counters.unknownOperations[operation] = (counters.unknownOperations[operation] ?? 0) + 1
        throw new RequestError(400, 'UnknownOperationException', `this endpoint does not speak ${operation}`)
    }
  }

  function respond(res: ServerResponse, status: number, payload: unknown) {
    const send = () => {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' })
      res.end(JSON.stringify(payload))
    }
    if (options.delayMs > 0) setTimeout(send, options.delayMs)
    else send()
  }

  const server = createServer(async (req, res) => {
    const body = await readBody(req)
    const at = now()
    counters.requests++
    const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? ''
    try {
      respond(res, 200, answer(operation, body, at))
    } catch (error) {
      const failure =
        error instanceof RequestError ? error : new RequestError(400, 'SerializationException', String(error))
      if (failure.type === 'ValidationException' || failure.type === 'SerializationException') {
        counters.invalidRequests++
      }
      respond(res, failure.status, { __type: failure.type, message: failure.message })
    }
  })
  server.keepAliveTimeout = 60_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    endpoint: `http://127.0.0.1:${port}`,
    report: () => ({
      shards: shards.length,
      limits,
      bucketBytes: byteBucketCapacity(limits),
      burstLevels: [...burstLevels],
      counters: { ...counters, unknownOperations: { ...counters.unknownOperations } },
      ledger: ledger.report(),
    }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/**
 * One KinesisConsumer worker in a plain-Node process of its own, on the built packages, at the KCL default
 * timings (nothing set but what WorkerConfig.options says). Bundled by worker-fleet.ts; protocol in
 * worker-protocol.ts. SIGKILL from the benchmark is the crash.
 */
import { createInterface } from 'node:readline'
import { CONSUMER_DEFAULTS, KinesisConsumer, type ShardRecordProcessor } from '@kinesis-ts/consumer'
import { createKinesisClient } from '@kinesis-ts/shared'
import { createDynamoDBClient } from '@kinesis-ts/shared/dynamodb'
import { tallyRequests } from './dynamodb-tally.js'
import type { WorkerCommand, WorkerConfig, WorkerEvent } from './worker-protocol.js'
import { TRACING, traceCalls, traceEventLoop, traceLine, traceLogger } from './worker-trace.js'

type Payload = WorkerEvent extends infer E ? (E extends WorkerEvent ? Omit<E, 'workerId' | 'at'> : never) : never

const config = JSON.parse(process.argv[2] ?? '{}') as WorkerConfig
const credentials = { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' }
const emit = (event: Payload) =>
  process.stdout.write(`${JSON.stringify({ ...event, workerId: config.workerId, at: Date.now() })}\n`)

// The client the consumer would build itself (its request bound and attempts), plus the request tally.
const dynamodb = createDynamoDBClient({
  region: 'us-east-1',
  endpoint: config.dynamodbEndpoint,
  credentials,
  requestTimeoutMs: CONSUMER_DEFAULTS.failoverTimeMillis / CONSUMER_DEFAULTS.dynamoDbRequestTimeoutDivisor,
  maxAttempts: 3,
})
const tally = tallyRequests(dynamodb)
// The client the consumer would build itself, given here only to trace its calls.
const kinesis = TRACING
  ? createKinesisClient({
      region: 'us-east-1',
      endpoint: config.kinesisEndpoint,
      credentials,
      requestTimeoutMs: CONSUMER_DEFAULTS.kinesisRequestTimeoutMillis,
    })
  : undefined
if (TRACING) {
  traceCalls(config.workerId, dynamodb)
  traceCalls(config.workerId, kinesis!)
  traceEventLoop(config.workerId)
}

function processor(): ShardRecordProcessor {
  let shardId = ''
  let last: string | undefined
  return {
    initialize(input) {
      shardId = input.shardId
    },
    async processRecords({ records, checkpointer }) {
      if (records.length === 0) return
      emit({ type: 'batch', shardId, sequenceNumbers: records.map((r) => r.sequenceNumber) })
      if (TRACING) traceLine(config.workerId, { kind: 'batch', shardId, records: records.length })
      last = records.at(-1)!.sequenceNumber
      await checkpointer.checkpoint()
    },
    leaseLost() {},
    async shardEnded({ checkpointer }) {
      await checkpointer.checkpoint()
    },
    async shutdownRequested({ checkpointer }) {
      await checkpointer.checkpoint()
      emit({ type: 'checkpointed', shardId, sequenceNumber: last })
    },
  }
}

let consumer: KinesisConsumer | undefined
let leaseTimer: NodeJS.Timeout | undefined

async function start(): Promise<void> {
  consumer = new KinesisConsumer({
    streamName: config.streamName,
    applicationName: config.applicationName,
    workerId: config.workerId,
    region: 'us-east-1',
    endpoint: config.kinesisEndpoint,
    dynamoDBClient: dynamodb,
    credentials,
    initialPosition: 'TRIM_HORIZON',
    processorFactory: processor,
    ...(TRACING ? { kinesisClient: kinesis, logger: traceLogger(config.workerId) } : {}),
    ...config.options,
  })
  await consumer.start()
  emit({ type: 'started' })
  let reported = ''
  const reportLeases = () => {
    const leases = [...consumer!.leases].sort()
    if (leases.join() === reported) return
    reported = leases.join()
    emit({ type: 'leases', leases })
  }
  reportLeases()
  leaseTimer = setInterval(reportLeases, 50)
}

async function shutdown(): Promise<void> {
  clearInterval(leaseTimer)
  await consumer?.shutdown()
  emit({ type: 'stopped' })
  dynamodb.destroy()
  process.exit(0)
}

const handlers: Record<WorkerCommand, () => Promise<void> | void> = {
  start,
  shutdown,
  report: () => {
    emit({ type: 'dynamodb', tally })
  },
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const handler = handlers[line.trim() as WorkerCommand]
  if (handler === undefined) return
  Promise.resolve(handler()).catch((error: unknown) => {
    process.stderr.write(`worker ${config.workerId}: ${line.trim()} failed: ${String(error)}\n`)
    process.exit(1)
  })
})
emit({ type: 'ready' })

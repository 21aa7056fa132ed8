import {
  type Checkpointer,
  type KinesisClientRecord,
  KinesisConsumer,
  type ShardRecordProcessor,
} from '@kinesis-ts/consumer'
import { clientOptionsFor } from '../backends.js'
import { type Command, integerOption, requiredString, stringOption } from '../command.js'
import { UsageError } from '../usage-error.js'

type Format = 'text' | 'json' | 'count'

export const consumeCommand: Command = {
  name: 'consume',
  summary: 'Consume a stream with a KinesisConsumer and a lease table; print or count the records.',
  details: [
    'Endpoints: --endpoint / $KINESIS_ENDPOINT and --dynamodb-endpoint / $DYNAMODB_ENDPOINT, else AWS.',
    'The lease table is named after --application, as in the Java KCL: run several of these with the',
    'same --application and they share the shards. Ctrl-C shuts down gracefully (final checkpoints).',
    'Formats: text = shard, sequence/sub-sequence, partition key, data as UTF-8, tab-separated;',
    '         json = one object per line (data as UTF-8 when valid, else base64); count = totals only.',
  ].join('\n'),
  options: {
    stream: { type: 'string', short: 's', description: 'stream name (required)', valueName: 'name' },
    application: {
      type: 'string',
      short: 'a',
      description: 'application (and lease table) name (required)',
      valueName: 'name',
    },
    'worker-id': {
      type: 'string',
      description: 'worker id in the lease table (default: host:pid:random)',
      valueName: 'id',
    },
    from: {
      type: 'string',
      description: 'initial position for shards without a checkpoint: TRIM_HORIZON or LATEST',
      default: 'LATEST',
      valueName: 'position',
    },
    format: { type: 'string', short: 'f', description: 'text, json or count', default: 'text', valueName: 'format' },
    max: { type: 'string', description: 'shut down gracefully after this many records', valueName: 'count' },
    'until-idle': {
      type: 'string',
      description: 'shut down gracefully once no record has arrived for this long',
      valueName: 'ms',
    },
    fanout: { type: 'boolean', description: 'enhanced fan-out (SubscribeToShard) instead of polling', default: false },
    endpoint: { type: 'string', description: 'Kinesis endpoint URL', valueName: 'url' },
    'dynamodb-endpoint': { type: 'string', description: 'DynamoDB endpoint URL', valueName: 'url' },
    region: {
      type: 'string',
      description: "AWS region (default: $AWS_REGION, then the AWS profile's; us-east-1 for a loopback endpoint)",
      valueName: 'region',
    },
  },
  async run(values, { signal, stdout, stderr }) {
    const streamName = requiredString(values, 'stream')
    const applicationName = requiredString(values, 'application')
    const format = formatOption(values.format)
    const from = values.from === 'TRIM_HORIZON' || values.from === 'LATEST' ? values.from : undefined
    if (from === undefined)
      throw new UsageError(`--from must be TRIM_HORIZON or LATEST, got ${JSON.stringify(values.from)}`)
    const max = values.max === undefined ? Number.POSITIVE_INFINITY : integerOption(values, 'max', 1)
    const endpoint = stringOption(values, 'endpoint') ?? process.env.KINESIS_ENDPOINT
    const dynamoDBEndpoint = stringOption(values, 'dynamodb-endpoint') ?? process.env.DYNAMODB_ENDPOINT
    const region = stringOption(values, 'region')
    const workerId = stringOption(values, 'worker-id')
    const idleMs = values['until-idle'] === undefined ? undefined : integerOption(values, 'until-idle', 100)

    const done = new AbortController()
    let consumed = 0
    const perShard = new Map<string, number>()
    let lastRecordAt = performance.now()
    const onRecords = (shardId: string, records: readonly KinesisClientRecord[]): number => {
      if (records.length > 0) lastRecordAt = performance.now()
      let taken = 0
      for (const record of records) {
        if (consumed >= max) break
        consumed++
        taken++
        if (format !== 'count') stdout.write(formatRecord(shardId, record, format))
      }
      perShard.set(shardId, (perShard.get(shardId) ?? 0) + taken)
      if (consumed >= max) done.abort()
      return taken
    }
    const kinesisOptions = clientOptionsFor(endpoint)
    const consumer = new KinesisConsumer({
      streamName,
      applicationName,
      ...(workerId === undefined ? {} : { workerId }),
      region: region ?? kinesisOptions.region,
      ...(endpoint === undefined ? {} : { endpoint }),
      ...(dynamoDBEndpoint === undefined ? {} : { dynamoDBEndpoint }),
      ...(kinesisOptions.credentials === undefined ? {} : { credentials: kinesisOptions.credentials }),
      initialPosition: from,
      retrieval: values.fanout === true ? { mode: 'fanout' } : { mode: 'polling' },
      processorFactory: () => new PrintingProcessor(onRecords),
    })
    const startedAt = performance.now()
    await consumer.start()
    stderr.write(`Consuming ${streamName} as ${applicationName}; Ctrl-C to stop\n`)
    lastRecordAt = performance.now()
    const idleCheck =
      idleMs === undefined
        ? undefined
        : setInterval(
            () => {
              if (performance.now() - lastRecordAt >= idleMs) done.abort()
            },
            Math.min(idleMs, 250),
          )
    try {
      await new Promise<void>((resolve) => {
        const stop = () => resolve()
        if (signal.aborted || done.signal.aborted) return resolve()
        signal.addEventListener('abort', stop, { once: true })
        done.signal.addEventListener('abort', stop, { once: true })
      })
    } finally {
      clearInterval(idleCheck)
      await consumer.shutdown()
    }
    const seconds = (performance.now() - startedAt) / 1000
    const shards = [...perShard].map(([shard, count]) => `${shard} ${count}`).join(', ')
    stderr.write(`Consumed ${consumed} records in ${seconds.toFixed(1)} s${shards ? ` (${shards})` : ''}\n`)
    return 0
  },
}

function formatOption(value: unknown): Format {
  if (value === 'text' || value === 'json' || value === 'count') return value
  throw new UsageError(`--format must be text, json or count, got ${JSON.stringify(value)}`)
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

function formatRecord(shardId: string, record: KinesisClientRecord, format: 'text' | 'json'): string {
  let text: string | undefined
  try {
    text = utf8.decode(record.data)
  } catch {
    text = undefined
  }
  if (format === 'json') {
    return `${JSON.stringify({
      shardId,
      sequenceNumber: record.sequenceNumber,
      subSequenceNumber: record.subSequenceNumber,
      partitionKey: record.partitionKey,
      approximateArrivalTimestamp: record.approximateArrivalTimestamp.toISOString(),
      ...(text === undefined ? { dataBase64: Buffer.from(record.data).toString('base64') } : { data: text }),
    })}\n`
  }
  const data =
    text === undefined ? `base64:${Buffer.from(record.data).toString('base64')}` : text.replaceAll('\n', '\\n')
  return `${shardId}\t${record.sequenceNumber}/${record.subSequenceNumber}\t${record.partitionKey}\t${data}\n`
}

/**
 * Hands each batch to the command and checkpoints the last record it took: a restart with the same
 * application resumes right after the last record printed, also when --max stopped mid-batch.
 */
class PrintingProcessor implements ShardRecordProcessor {
  #shardId = ''
  readonly #onRecords: (shardId: string, records: readonly KinesisClientRecord[]) => number

  constructor(onRecords: (shardId: string, records: readonly KinesisClientRecord[]) => number) {
    this.#onRecords = onRecords
  }

  initialize({ shardId }: { shardId: string }): void {
    this.#shardId = shardId
  }

  async processRecords({ records, checkpointer }: { records: KinesisClientRecord[]; checkpointer: Checkpointer }) {
    const taken = this.#onRecords(this.#shardId, records)
    const last = records[taken - 1]
    if (last !== undefined) await checkpointer.checkpoint(last)
  }

  leaseLost(): void {}

  async shardEnded({ checkpointer }: { checkpointer: Checkpointer }) {
    await checkpointer.checkpoint()
  }

  /** Every record taken is already checkpointed; a bare checkpoint() would also pass records --max left out. */
  shutdownRequested(): void {}
}

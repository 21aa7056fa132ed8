import { createInterface } from 'node:readline'
import { KinesisProducer, type UserRecord } from '@kinesis-ts/producer'
import { createKinesisClient } from '@kinesis-ts/shared'
import { clientOptionsFor } from '../backends.js'
import { type Command, integerOption, requiredString, stringOption } from '../command.js'
import { encodeDemoRecord } from '../demo/record-format.js'
import { ProduceTally, formatFailures } from '../produce-tally.js'
import { ensureStream } from '../streams.js'

export const produceCommand: Command = {
  name: 'produce',
  summary: 'Put records with the KinesisProducer: one per stdin line, or generated ones.',
  details: [
    'The endpoint is --endpoint, else $KINESIS_ENDPOINT, else AWS (default credential chain).',
    'Examples:',
    '  tail -f app.log | kinesis-ts produce --stream logs --partition-key host-1',
    '  kinesis-ts produce --stream demo --create 4 --generate 100000 --size 100',
    'Exit code 1 if any record failed (the failures are counted by error code).',
  ].join('\n'),
  options: {
    stream: { type: 'string', short: 's', description: 'stream name (required)', valueName: 'name' },
    create: {
      type: 'string',
      description: 'create the stream with this many shards if it does not exist',
      valueName: 'shards',
    },
    endpoint: { type: 'string', description: 'Kinesis endpoint URL', valueName: 'url' },
    region: {
      type: 'string',
      description: "AWS region (default: $AWS_REGION, then the AWS profile's; us-east-1 for a loopback endpoint)",
      valueName: 'region',
    },
    'partition-key': {
      type: 'string',
      short: 'k',
      description: 'partition key of every record (default: spread over --keys keys)',
      valueName: 'key',
    },
    keys: {
      type: 'string',
      description: 'distinct partition keys when no --partition-key',
      default: '1000',
      valueName: 'count',
    },
    generate: {
      type: 'string',
      short: 'g',
      description: 'generate this many records instead of reading stdin',
      valueName: 'count',
    },
    size: { type: 'string', description: 'bytes per generated record', default: '100', valueName: 'bytes' },
    'no-aggregation': {
      type: 'boolean',
      description: 'send every user record as its own Kinesis record',
      default: false,
    },
    'rate-limit': {
      type: 'string',
      description: 'rateLimit: % of each shard limit to use',
      default: '150',
      valueName: 'percent',
    },
    'max-buffered-time': {
      type: 'string',
      description: 'recordMaxBufferedTime in ms',
      default: '100',
      valueName: 'ms',
    },
    quiet: { type: 'boolean', short: 'q', description: 'no summary line', default: false },
  },
  async run(values, { signal, stdin, stderr }) {
    const streamName = requiredString(values, 'stream')
    const endpoint = stringOption(values, 'endpoint') ?? process.env.KINESIS_ENDPOINT
    const region = stringOption(values, 'region')
    const fixedKey = stringOption(values, 'partition-key')
    const keys = integerOption(values, 'keys', 1)
    const generate = values.generate === undefined ? undefined : integerOption(values, 'generate', 1)
    const size = integerOption(values, 'size', 12, 1_048_576)
    const rateLimit = integerOption(values, 'rate-limit', 1, 10_000)
    const recordMaxBufferedTime = integerOption(values, 'max-buffered-time', 1, 60_000)
    const createShards = values.create === undefined ? undefined : integerOption(values, 'create', 1, 10_000)

    const clientOptions = { ...clientOptionsFor(endpoint), ...(region === undefined ? {} : { region }) }
    if (createShards !== undefined) {
      // The producer's options, so --region applies to the stream it creates too.
      const admin = createKinesisClient(clientOptions)
      try {
        if (await ensureStream(admin, streamName, createShards, signal)) {
          stderr.write(`Created stream ${streamName} with ${createShards} shards\n`)
        }
      } finally {
        admin.destroy()
      }
    }
    const producer = new KinesisProducer({
      streamName,
      ...clientOptions,
      aggregationEnabled: values['no-aggregation'] !== true,
      rateLimit,
      recordMaxBufferedTime,
    })
    const tally = new ProduceTally(producer)
    const keyOf = (n: number) => fixedKey ?? `key-${n % keys}`
    const startedAt = performance.now()
    let offered = 0
    let closed = false
    try {
      const records: AsyncIterable<UserRecord> | Iterable<UserRecord> =
        generate === undefined ? linesAsRecords(stdin, keyOf) : generatedRecords(generate, size, keyOf)
      for await (const record of records) {
        if (signal.aborted) break
        await tally.offer(record)
        offered++
      }
      const totals = await tally.settled()
      await producer.close()
      closed = true
      if (values.quiet !== true) {
        const seconds = (performance.now() - startedAt) / 1000
        const rate = Math.round(totals.successful / Math.max(seconds, 0.001))
        const failures = totals.failed > 0 ? `, ${totals.failed} failed (${formatFailures(totals.failuresByCode)})` : ''
        stderr.write(
          `Put ${totals.successful} of ${offered} records to ${streamName} in ${seconds.toFixed(1)} s (${rate} records/s)${failures}\n`,
        )
      }
      return totals.failed > 0 ? 1 : 0
    } finally {
      // Ctrl-C or an error: records not yet sent fail instead of holding the process open.
      if (!closed) producer.destroy()
    }
  },
}

async function* linesAsRecords(input: NodeJS.ReadableStream, keyOf: (n: number) => string): AsyncIterable<UserRecord> {
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })
  let n = 0
  for await (const line of lines) yield { partitionKey: keyOf(n++), data: line }
}

function* generatedRecords(count: number, size: number, keyOf: (n: number) => string): Iterable<UserRecord> {
  for (let id = 0; id < count; id++) yield { partitionKey: keyOf(id), data: encodeDemoRecord(id, Date.now(), size) }
}

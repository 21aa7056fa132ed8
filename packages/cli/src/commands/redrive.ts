import { KinesisProducer, originalData, parseDeadLetterEnvelope } from '@kinesis-ts/producer'
import { AbortedError, createKinesisClient } from '@kinesis-ts/shared'
import { clientOptionsFor } from '../backends.js'
import { type Command, requiredString, stringOption } from '../command.js'
import { ProduceTally, formatFailures } from '../produce-tally.js'
import { readStream } from '../stream-reader.js'

/** How often the progress line is written while records are put. */
const PROGRESS_INTERVAL_MS = 1_000

export const redriveCommand: Command = {
  name: 'redrive',
  summary: 'Put the records of a dead-letter stream (deadLetterToStream envelopes) back into a stream.',
  details: [
    'Reads --from from TRIM_HORIZON to its current end, shard by shard, unwraps each dead-letter envelope',
    'and puts the original partition key, explicit hash key, data and headers to --to (one Kinesis record',
    'each: plain, or a KPL aggregate of one when it has headers), keeping the order of each key. Kinesis',
    'cannot delete records: running it twice puts',
    'them twice, so start a new dead-letter stream (or let retention expire) once they are back.',
    'Records that are not envelopes are counted and left out. Exit code 1 if any put failed.',
    'Example:',
    '  kinesis-ts redrive --from orders-dlq --to orders --dry-run   # list what would go back',
    'The endpoint is --endpoint, else $KINESIS_ENDPOINT, else AWS (default credential chain).',
  ].join('\n'),
  options: {
    from: { type: 'string', description: 'the dead-letter stream (required)', valueName: 'stream' },
    to: { type: 'string', description: 'the stream to put the records back into (required)', valueName: 'stream' },
    'dry-run': {
      type: 'boolean',
      description: 'list the dead-lettered records on stdout (source shard, sequence, key, error); put nothing',
      default: false,
    },
    endpoint: { type: 'string', description: 'Kinesis endpoint URL', valueName: 'url' },
    region: {
      type: 'string',
      description: "AWS region (default: $AWS_REGION, then the AWS profile's; us-east-1 for a loopback endpoint)",
      valueName: 'region',
    },
    quiet: { type: 'boolean', short: 'q', description: 'no progress or summary lines', default: false },
  },
  async run(values, { signal, stdout, stderr }) {
    const from = requiredString(values, 'from')
    const to = requiredString(values, 'to')
    const dryRun = values['dry-run'] === true
    const quiet = values.quiet === true
    const endpoint = stringOption(values, 'endpoint') ?? process.env.KINESIS_ENDPOINT
    const region = stringOption(values, 'region')
    const clientOptions = { ...clientOptionsFor(endpoint), ...(region === undefined ? {} : { region }) }
    const kinesis = createKinesisClient(clientOptions)
    const producer = dryRun
      ? undefined
      : // One Kinesis record per user record (an aggregate of one goes out plain), except that a record
        // with headers travels as an aggregate of one: its KPL tags are its headers (a trace context).
        new KinesisProducer({ streamName: to, ...clientOptions, aggregationMaxCount: 1 })
    const tally = producer === undefined ? undefined : new ProduceTally(producer)
    const startedAt = performance.now()
    let read = 0
    let notEnvelopes = 0
    let lastProgress = performance.now()
    let closed = false
    try {
      try {
        for await (const record of readStream(kinesis, from, signal)) {
          const envelope = parseDeadLetterEnvelope(record.data)
          if (envelope === undefined) {
            notEnvelopes++
            continue
          }
          read++
          if (tally === undefined) {
            const source = `${envelope.streamName ?? '?'}/${envelope.shardId}`
            const position = `${envelope.sequenceNumber}/${envelope.subSequenceNumber}`
            const error = `${envelope.error.name}: ${envelope.error.message}`.replaceAll('\n', '\\n')
            stdout.write(`${source}\t${position}\t${envelope.partitionKey}\tattempts ${envelope.attempts}\t${error}\n`)
            continue
          }
          await tally.offer({
            partitionKey: envelope.partitionKey,
            data: originalData(envelope),
            ...(envelope.explicitHashKey === undefined ? {} : { explicitHashKey: envelope.explicitHashKey }),
            ...(envelope.headers === undefined ? {} : { headers: envelope.headers }),
          })
          if (!quiet && performance.now() - lastProgress >= PROGRESS_INTERVAL_MS) {
            lastProgress = performance.now()
            stderr.write(`redrive: ${read} read from ${from}, ${tally.successful} put to ${to}\n`)
          }
        }
      } catch (error) {
        // Ctrl-C: what was offered so far is still settled and counted below.
        if (!(error instanceof AbortedError || signal.aborted)) throw error
      }
      const seconds = ((performance.now() - startedAt) / 1000).toFixed(1)
      const skipped =
        notEnvelopes === 0
          ? ''
          : `; left out ${notEnvelopes} ${notEnvelopes === 1 ? 'record that is' : 'records that are'} not a dead-letter envelope`
      if (tally === undefined || producer === undefined) {
        if (!quiet) stderr.write(`Dry run: ${read} dead-letter records in ${from} would go to ${to}${skipped}\n`)
        return 0
      }
      const totals = await tally.settled()
      await producer.close()
      closed = true
      if (!quiet) {
        const failures = totals.failed > 0 ? `, ${totals.failed} failed (${formatFailures(totals.failuresByCode)})` : ''
        stderr.write(
          `Redrove ${totals.successful} of ${read} records from ${from} to ${to} in ${seconds} s${failures}${skipped}\n`,
        )
      }
      return totals.failed > 0 ? 1 : 0
    } finally {
      if (producer !== undefined && !closed) producer.destroy()
      kinesis.destroy()
    }
  },
}

import { availableParallelism } from 'node:os'
import { consoleLogger } from '@kinesis-ts/shared'
import { type Command, integerOption } from '../command.js'
import { runDemo } from '../demo/run-demo.js'
import { formatSummary } from '../demo/summary.js'

export const demoCommand: Command = {
  name: 'demo',
  summary: 'Produce and consume a stream end to end (split, handoff, verification) on the embedded backends.',
  details: [
    'Starts kinesis-local and dynalite (or uses KINESIS_ENDPOINT / DYNAMODB_ENDPOINT), creates a stream,',
    'produces records with aggregation while two workers consume them from one lease table (one in',
    'worker threads), splits a shard halfway, shuts one worker down gracefully near the end, and',
    'verifies that every record arrived, in order per key. Exit code 1 if anything was lost.',
  ].join('\n'),
  options: {
    records: {
      type: 'string',
      short: 'n',
      description: 'user records to produce',
      default: '200000',
      valueName: 'count',
    },
    keys: { type: 'string', description: 'distinct partition keys', default: '1000', valueName: 'count' },
    size: { type: 'string', description: 'bytes of data per record', default: '100', valueName: 'bytes' },
    shards: { type: 'string', description: 'shards of the stream', default: '4', valueName: 'count' },
    'no-split': { type: 'boolean', description: 'do not split a shard halfway', default: false },
    poison: {
      type: 'boolean',
      description: 'also put one record the processors always throw on, and show it dead-lettered',
      default: false,
    },
    'worker-threads': {
      type: 'string',
      description: 'threads of the worker-thread consumer',
      default: String(Math.max(1, Math.min(2, availableParallelism()))),
      valueName: 'count',
    },
    'stall-timeout': {
      type: 'string',
      description: 'fail after this many ms without progress',
      default: '60000',
      valueName: 'ms',
    },
    json: { type: 'boolean', description: 'print the summary as JSON on the last line', default: false },
    verbose: { type: 'boolean', short: 'v', description: 'log warnings of the libraries to stderr', default: false },
  },
  async run(values, { signal, stdout }) {
    const summary = await runDemo({
      records: integerOption(values, 'records', 10, 10_000_000),
      keys: integerOption(values, 'keys', 1, 1_000_000),
      recordBytes: integerOption(values, 'size', 12, 1_048_576 - 64),
      shards: integerOption(values, 'shards', 1, 64),
      split: values['no-split'] !== true,
      poison: values.poison === true,
      workerThreads: integerOption(values, 'worker-threads', 1, 64),
      stallTimeoutMs: integerOption(values, 'stall-timeout', 1000),
      out: stdout,
      signal,
      ...(values.verbose === true ? { logger: consoleLogger('warn') } : {}),
    })
    stdout.write(formatSummary(summary))
    if (values.json === true) stdout.write(`${JSON.stringify(summary)}\n`)
    return summary.passed ? 0 : 1
  },
}

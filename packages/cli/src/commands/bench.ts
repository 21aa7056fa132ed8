import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Command, stringOption } from '../command.js'
import { UsageError } from '../usage-error.js'

const SUITES = ['codec', 'producer', 'consumer', 'fanout', 'workers']

/** The checkout's benchmarks folder: benchmarks are not published, they run from a clone. */
function findBenchmarks(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const candidate = join(dir, 'benchmarks', 'run.ts')
    if (existsSync(candidate)) return dirname(candidate)
    const parent = dirname(dir)
    if (parent === dir) return undefined
    dir = parent
  }
}

export const benchCommand: Command = {
  name: 'bench',
  summary: 'Run the side-by-side benchmarks (from a kinesis-ts checkout) and print ratios against peers.',
  details: `Suites: ${SUITES.join(', ')}. Environment knobs (BENCH_ROUNDS, BENCH_CODEC_RECORDS, ...) are listed in benchmarks/README.md of the clone.`,
  options: {
    suite: {
      type: 'string',
      short: 's',
      description: `one suite (${SUITES.join('|')}); all when omitted`,
      valueName: 'name',
    },
  },
  async run(values, { signal }) {
    const suite = stringOption(values, 'suite')
    if (suite !== undefined && !SUITES.includes(suite)) {
      throw new UsageError(`--suite must be one of ${SUITES.join(', ')}, got ${JSON.stringify(suite)}`)
    }
    const cwd = findBenchmarks()
    if (cwd === undefined)
      throw new UsageError('the benchmarks ship with the kinesis-ts repository: run this from a clone')
    const child = spawn(process.execPath, ['--import', 'tsx', 'run.ts'], {
      cwd,
      stdio: 'inherit',
      env: { ...process.env, ...(suite === undefined ? {} : { BENCH: suite }) },
      signal,
    })
    return new Promise<number>((resolve) => {
      child.on('error', () => resolve(130))
      child.on('exit', (code) => resolve(code ?? 1))
    })
  },
}

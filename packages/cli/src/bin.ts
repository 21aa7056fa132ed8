import { errorCodeOf } from '@kinesis-ts/shared'
import { type Command, helpText, parseCommandLine } from './command.js'
import { benchCommand } from './commands/bench.js'
import { consumeCommand } from './commands/consume.js'
import { demoCommand } from './commands/demo.js'
import { localCommand } from './commands/local.js'
import { produceCommand } from './commands/produce.js'
import { redriveCommand } from './commands/redrive.js'
import { UsageError } from './usage-error.js'

// The SDK's advice to move to Node 22 (printed on the first client) is noise in a command's output;
// an explicit setting of the variable still wins.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

const commands: readonly Command[] = [
  localCommand,
  produceCommand,
  consumeCommand,
  redriveCommand,
  benchCommand,
  demoCommand,
]

function overview(): string {
  const width = Math.max(...commands.map((c) => c.name.length))
  return [
    'Usage: kinesis-ts <command> [options]',
    '',
    'The Kinesis Producer and Client Libraries in TypeScript: no JVM, no native binary.',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    "Run 'kinesis-ts <command> --help' for a command's options.",
    '',
  ].join('\n')
}

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(overview())
    return name === undefined ? 2 : 0
  }
  const command = commands.find((c) => c.name === name)
  if (command === undefined)
    throw new UsageError(`unknown command '${name}' (commands: ${commands.map((c) => c.name).join(', ')})`)
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(helpText(command))
    return 0
  }
  const values = parseCommandLine(command, rest)
  const controller = new AbortController()
  let interrupts = 0
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts++
    if (interrupts === 1) {
      process.stderr.write(`\n${signal}: stopping (again to force)\n`)
      controller.abort(new Error(signal))
    } else {
      // The local servers' watchdogs stop them when this process is gone.
      process.exit(130)
    }
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  try {
    return await command.run(values, {
      signal: controller.signal,
      stdout: process.stdout,
      stderr: process.stderr,
      stdin: process.stdin,
    })
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error)
    const code = errorCodeOf(error)
    process.stderr.write(`kinesis-ts: ${message}${code && code !== 'ERR_USAGE' ? ` [${code}]` : ''}\n`)
    if (error instanceof UsageError) process.stderr.write("Run 'kinesis-ts --help' for usage.\n")
    if (process.env.KINESIS_TS_DEBUG && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`)
    process.exitCode = error instanceof UsageError ? 2 : 1
  },
)

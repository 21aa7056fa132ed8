import { type ParseArgsConfig, parseArgs } from 'node:util'
import { UsageError } from './usage-error.js'

type OptionSpec = NonNullable<ParseArgsConfig['options']>[string] & { description: string; valueName?: string }

export interface Command {
  readonly name: string
  readonly summary: string
  /** Text after the option list: examples, environment variables. */
  readonly details?: string
  readonly options: Readonly<Record<string, OptionSpec>>
  run(values: ParsedValues, context: CommandContext): Promise<number>
}

export type ParsedValues = Record<string, string | boolean | undefined>

export interface CommandContext {
  /** Aborted on Ctrl-C / SIGTERM: commands stop their loops and clean up. */
  readonly signal: AbortSignal
  readonly stdout: NodeJS.WriteStream
  readonly stderr: NodeJS.WriteStream
  readonly stdin: NodeJS.ReadStream
}

export function parseCommandLine(command: Command, argv: readonly string[]): ParsedValues {
  const options = Object.fromEntries(
    Object.entries(command.options).map(([name, { type, short, default: value }]) => [
      name,
      { type, ...(short === undefined ? {} : { short }), ...(value === undefined ? {} : { default: value }) },
    ]),
  ) as ParseArgsConfig['options']
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values as ParsedValues
  } catch (error) {
    // parseArgs' messages are already one clear line ("Unknown option '--x'").
    throw new UsageError((error as Error).message)
  }
}

export function helpText(command: Command): string {
  const rows = Object.entries(command.options).map(([name, spec]) => {
    const flag = `${spec.short === undefined ? '    ' : `-${spec.short}, `}--${name}${spec.type === 'string' ? ` <${spec.valueName ?? 'value'}>` : ''}`
    const fallback = spec.default === undefined ? '' : ` (default: ${String(spec.default)})`
    return [flag, `${spec.description}${fallback}`] as const
  })
  const width = Math.max(...rows.map(([flag]) => flag.length), 10)
  const lines = [
    `Usage: kinesis-ts ${command.name} [options]`,
    '',
    command.summary,
    '',
    'Options:',
    ...rows.map(([flag, text]) => `  ${flag.padEnd(width)}  ${text}`),
  ]
  if (command.details) lines.push('', command.details)
  return `${lines.join('\n')}\n`
}

/** A positive integer option, or a UsageError naming it. */
export function integerOption(values: ParsedValues, name: string, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  const raw = values[name]
  const value = typeof raw === 'string' ? Number(raw.replaceAll('_', '')) : Number.NaN
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`)
  }
  return value
}

export function stringOption(values: ParsedValues, name: string): string | undefined {
  const raw = values[name]
  return typeof raw === 'string' && raw.length > 0 ? raw : undefined
}

export function requiredString(values: ParsedValues, name: string): string {
  const value = stringOption(values, name)
  if (value === undefined) throw new UsageError(`--${name} is required`)
  return value
}

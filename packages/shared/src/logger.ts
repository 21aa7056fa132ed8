/**
 * A pino-compatible logging shape: `log.info('msg')` or `log.info({ shardId }, 'msg')`.
 * Pass a pino logger as it is; the default logs nothing.
 */
export interface LogFn {
  (message: string): void
  (fields: Readonly<Record<string, unknown>>, message?: string): void
}

export interface Logger {
  readonly debug: LogFn
  readonly info: LogFn
  readonly warn: LogFn
  readonly error: LogFn
  child?(bindings: Readonly<Record<string, unknown>>): Logger
}

const nothing: LogFn = () => {}

export const silentLogger: Logger = Object.freeze({ debug: nothing, info: nothing, warn: nothing, error: nothing })

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error']

/** One JSON line per entry on stderr, at `level` and above (for demos and the CLI). */
export function consoleLogger(level: LogLevel = 'info', bindings: Readonly<Record<string, unknown>> = {}): Logger {
  const threshold = LEVELS.indexOf(level)
  const make = (at: LogLevel): LogFn => {
    if (LEVELS.indexOf(at) < threshold) return nothing
    return ((first: string | Readonly<Record<string, unknown>>, message?: string) => {
      const fields = typeof first === 'string' ? {} : first
      const msg = typeof first === 'string' ? first : message
      process.stderr.write(`${JSON.stringify({ level: at, time: Date.now(), ...bindings, ...fields, msg })}\n`)
    }) as LogFn
  }
  return {
    debug: make('debug'),
    info: make('info'),
    warn: make('warn'),
    error: make('error'),
    child: (more) => consoleLogger(level, { ...bindings, ...more }),
  }
}

/** A child logger where the logger supports it, the same logger otherwise. */
export function childLogger(logger: Logger, bindings: Readonly<Record<string, unknown>>): Logger {
  return logger.child ? logger.child(bindings) : logger
}

import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'

/**
 * Runs in a small Node process between us and the server. It forwards output, reports the
 * server's pid, and kills the server when our end of its stdin closes, which happens however we
 * die (crash, SIGKILL, a test runner tearing down its worker). kinesis-local ignores SIGTERM, so
 * a stop is SIGTERM, then SIGKILL after a short grace.
 */
const WATCHDOG = `
const { spawn } = require('node:child_process')
const [script, args, graceMs] = JSON.parse(process.argv[1])
const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'inherit', 'inherit'], env: process.env })
process.stdout.write(JSON.stringify({ pid: child.pid }) + '\\n')
let stopping = false
const stop = () => {
  if (stopping) return
  stopping = true
  try { child.kill('SIGTERM') } catch {}
  setTimeout(() => { try { child.kill('SIGKILL') } catch {} }, graceMs).unref()
}
child.on('exit', (code) => process.exit(code ?? 0))
process.stdin.on('end', stop)
process.stdin.on('error', stop)
process.stdin.resume()
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
`

export interface SupervisedProcess {
  /** The server's own pid (not the watchdog's). */
  readonly pid: number | undefined
  /** The last lines the server printed, for error messages. */
  output(): string
  readonly exited: Promise<number | null>
  stop(): Promise<void>
}

export interface SuperviseOptions {
  readonly script: string
  readonly args: readonly string[]
  readonly env: NodeJS.ProcessEnv
  readonly cwd?: string
  readonly graceMs?: number
}

const live = new Set<ChildProcess>()
let exitHookInstalled = false

function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  // Last resort for a normal exit that skipped stop(): stdin closing would do it too, a moment later.
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL')
  })
}

export async function superviseProcess(options: SuperviseOptions): Promise<SupervisedProcess> {
  installExitHook()
  const grace = options.graceMs ?? 500
  const watchdog = spawn(process.execPath, ['-e', WATCHDOG, JSON.stringify([options.script, options.args, grace])], {
    env: options.env,
    cwd: options.cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  live.add(watchdog)
  const exited = once(watchdog, 'exit').then(([code]) => {
    live.delete(watchdog)
    return code as number | null
  })
  const lines: string[] = []
  let serverPid: number | undefined
  let pending = ''
  const collect = (chunk: Buffer): void => {
    pending += chunk.toString('utf8')
    const parts = pending.split('\n')
    pending = parts.pop() ?? ''
    for (const line of parts) {
      if (serverPid === undefined && line.startsWith('{"pid":')) {
        serverPid = (JSON.parse(line) as { pid?: number }).pid
        continue
      }
      lines.push(line)
      if (lines.length > 40) lines.shift()
    }
  }
  // Always drain the pipes: a full pipe would block the server.
  watchdog.stdout.on('data', collect)
  watchdog.stderr.on('data', collect)

  let stopped: Promise<void> | undefined
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      if (watchdog.exitCode === null && watchdog.signalCode === null) {
        watchdog.stdin.end()
        watchdog.kill('SIGTERM')
        const timer = setTimeout(() => {
          // The watchdog itself is stuck: kill both directly.
          if (serverPid !== undefined) killQuietly(serverPid)
          watchdog.kill('SIGKILL')
        }, grace + 3000)
        await exited
        clearTimeout(timer)
      }
      if (serverPid !== undefined) killQuietly(serverPid)
    })()
    return stopped
  }

  return {
    get pid() {
      return serverPid
    },
    output: () => [...lines, pending].join('\n').trim(),
    exited,
    stop,
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL')
  } catch {
    // Already gone.
  }
}

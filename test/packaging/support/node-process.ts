import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const RECORDER = new URL('./record-loads.mjs', import.meta.url).href

export interface ProcessResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

export interface RunOptions {
  readonly cwd: string
  readonly env?: Record<string, string | undefined>
  readonly timeoutMs?: number
}

/** Runs a command to completion (no shell); kills it after `timeoutMs`. */
export function run(command: string, args: readonly string[], options: RunOptions): Promise<ProcessResult> {
  const timeoutMs = options.timeoutMs ?? 60_000
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${command} ${args.join(' ')} did not exit within ${timeoutMs} ms\n${stdout}\n${stderr}`))
    }, timeoutMs)
    child.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/** What a Node process loaded, as ./record-loads.mjs saw it. */
export interface Loads {
  /** Files given to process.dlopen (native addons), in any thread. */
  readonly nativeAddons: readonly string[]
  /** ESM URLs resolved and CommonJS files required, in the main thread. */
  readonly modules: readonly string[]
}

/**
 * Runs `node <args>` in a fresh process with ./record-loads.mjs preloaded (through NODE_OPTIONS, so
 * worker threads get it too, and replacing any NODE_OPTIONS of ours such as a TypeScript loader).
 */
export async function runNodeRecordingLoads(
  args: readonly string[],
  options: RunOptions,
): Promise<ProcessResult & { loads: Loads }> {
  const dir = mkdtempSync(join(tmpdir(), 'kinesis-ts-loads-'))
  const log = join(dir, 'loads.log')
  try {
    const result = await run(process.execPath, args, {
      ...options,
      env: { ...options.env, NODE_OPTIONS: `--import=${RECORDER}`, KINESIS_TS_LOAD_LOG: log },
    })
    const lines = existsSync(log) ? readFileSync(log, 'utf8').split('\n') : []
    const entries = (kind: string) =>
      lines.filter((line) => line.startsWith(`${kind} `)).map((line) => line.slice(kind.length + 1))
    return {
      ...result,
      loads: { nativeAddons: entries('dlopen'), modules: [...entries('import'), ...entries('require')] },
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Whether any loaded module lies inside the installed package `name` (any copy, any layout). */
export function loadedPackage(loads: Loads, name: string): boolean {
  return loads.modules.some((module) => module.includes(`/node_modules/${name}/`))
}

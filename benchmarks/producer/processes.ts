/**
 * The benchmark's processes: the limit-enforcing endpoint and each contender run as plain Node processes on
 * the built packages, bundled here by esbuild first (under tsx, the loader alone adds about 30 MB to a
 * process's RSS and CPU to its start, which no user pays).
 */
import { type ChildProcess, execFile, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { build } from 'esbuild'
import type { ContenderReport } from './contenders/feeder.js'
import type { ContenderConfig } from './contenders/ids.js'
import type { EndpointReport, LimitedEndpointOptions } from './limits/endpoint.js'

const execFileAsync = promisify(execFile)
const source = (path: string) => fileURLToPath(new URL(path, import.meta.url))
// Under benchmarks/ so that the packages the bundles leave as imports resolve from benchmarks/node_modules.
const contenderFile = source('../dist/producer-contender.mjs')
const endpointFile = source('../dist/producer-endpoint.mjs')

/** Each entry as one JavaScript file: its own modules inlined, packages (ours as built, the peers) imported. */
export async function bundleProcesses(): Promise<void> {
  const entries: [string, string][] = [
    [source('./contenders/main.ts'), contenderFile],
    [source('./limits/endpoint-process.ts'), endpointFile],
  ]
  await Promise.all(
    entries.map(([entry, outfile]) =>
      build({
        entryPoints: [entry],
        outfile,
        bundle: true,
        packages: 'external',
        platform: 'node',
        format: 'esm',
        target: 'node20',
        logLevel: 'warning',
      }),
    ),
  )
}

export interface EndpointProcess {
  readonly endpoint: string
  report(): Promise<EndpointReport>
  stop(): Promise<void>
}

function nextMessage<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: { type: string }) => {
      if (message.type !== type) return
      child.off('message', onMessage)
      child.off('exit', onExit)
      resolve(message as T)
    }
    const onExit = (code: number | null) => {
      child.off('message', onMessage)
      reject(new Error(`the endpoint process exited (${code}) before sending ${type}`))
    }
    child.on('message', onMessage)
    child.once('exit', onExit)
  })
}

/** Starts the endpoint in its own process and waits until it listens. */
export async function startEndpointProcess(options: LimitedEndpointOptions): Promise<EndpointProcess> {
  const child = fork(endpointFile, [JSON.stringify(options)], {
    execArgv: [],
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const { endpoint } = await nextMessage<{ endpoint: string }>(child, 'ready')
  return {
    endpoint,
    async report() {
      const reply = nextMessage<{ report: EndpointReport }>(child, 'report')
      child.send({ type: 'report' })
      return (await reply).report
    },
    async stop() {
      if (child.exitCode !== null) return
      child.send({ type: 'close' })
      const timer = setTimeout(() => child.kill(), 5_000)
      await exited
      clearTimeout(timer)
    },
  }
}

/**
 * Runs one contender to the end and returns its report (the last line it prints). A contender process that
 * dies comes back as a report of nothing settled, with the reason, so the other contenders still run.
 */
export async function runContender(config: ContenderConfig): Promise<ContenderReport> {
  try {
    const { stdout } = await execFileAsync(process.execPath, [contenderFile, JSON.stringify(config)], {
      maxBuffer: 64 * 1024 * 1024,
    })
    return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as ContenderReport
  } catch (cause) {
    const stderr = (cause as { stderr?: string }).stderr?.trim().split('\n').at(-1)
    return {
      contender: config.contender,
      offered: 0,
      succeeded: 0,
      failed: 0,
      unsettled: config.total,
      successes: '',
      firstOfferAt: 0,
      lastOfferAt: 0,
      endedAt: 0,
      cpuMicros: 0,
      peakRssMb: 0,
      peakHeapMb: 0,
      peakExternalMb: 0,
      error: `the process failed: ${stderr || String(cause)}`,
    }
  }
}

/**
 * The benchmark's side of its worker processes: bundles worker-process.ts (plain Node on the built packages,
 * as a user runs a worker; under tsx the loader alone would slow every start), starts them, reads their
 * events, and stops them (SIGKILL is also the crash).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { sleep } from '@kinesis-ts/shared'
import { build } from 'esbuild'
import type { WorkerCommand, WorkerConfig, WorkerEvent, WorkerEventOf } from './worker-protocol.js'

const source = (path: string) => fileURLToPath(new URL(path, import.meta.url))
// Under benchmarks/ so that the packages the bundle leaves as imports resolve from benchmarks/node_modules.
const workerFile = source('../dist/consumer-worker.mjs')

export async function bundleWorker(): Promise<void> {
  await build({
    entryPoints: [source('./worker-process.ts')],
    outfile: workerFile,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
  })
}

/** Polls `condition` every 10 ms (the figures come from the workers' own timestamps, not from this). */
export async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs
  while (!condition()) {
    if (performance.now() > deadline) return false
    await sleep(10)
  }
  return true
}

export async function mustReach(what: string, condition: () => boolean, timeoutMs: number): Promise<void> {
  if (!(await until(condition, timeoutMs))) throw new Error(`benchmark step timed out: ${what}`)
}

export class WorkerProcess {
  readonly events: WorkerEvent[] = []
  /** Batches in arrival order (their own clock's order); kept apart, the benchmark polls them often. */
  readonly batches: WorkerEventOf<'batch'>[] = []
  /** When it last processed a batch of each shard. */
  readonly lastBatchAt = new Map<string, number>()
  /** When startFleet told it to start its consumer (a cold start is timed from the first of these). */
  startSentAt: number | undefined
  readonly #child: ChildProcess
  readonly #exited: Promise<void>

  constructor(readonly config: WorkerConfig) {
    this.#child = spawn(process.execPath, [workerFile, JSON.stringify(config)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    })
    this.#exited = new Promise((resolve) => this.#child.once('exit', () => resolve()))
    createInterface({ input: this.#child.stdout! }).on('line', (line) => {
      if (!line.startsWith('{')) return
      const event = JSON.parse(line) as WorkerEvent
      if (event.type !== 'batch') {
        this.events.push(event)
        return
      }
      this.batches.push(event)
      this.lastBatchAt.set(event.shardId, event.at)
    })
  }

  get id(): string {
    return this.config.workerId
  }

  get exited(): boolean {
    return this.#child.exitCode !== null || this.#child.signalCode !== null
  }

  send(command: WorkerCommand): void {
    this.#child.stdin!.write(`${command}\n`)
  }

  has(type: Exclude<WorkerEvent['type'], 'batch'>): boolean {
    return this.events.some((e) => e.type === type)
  }

  /** Its events of one type other than 'batch' (see batches). */
  of<T extends Exclude<WorkerEvent['type'], 'batch'>>(type: T): WorkerEventOf<T>[] {
    return this.events.filter((e): e is WorkerEventOf<T> => e.type === type)
  }

  /** Its batches processed at or after `at`. */
  batchesSince(at: number): WorkerEventOf<'batch'>[] {
    let i = this.batches.length
    while (i > 0 && this.batches[i - 1]!.at >= at) i--
    return this.batches.slice(i)
  }

  /** The leases it last reported holding. */
  leases(): readonly string[] {
    return this.of('leases').at(-1)?.leases ?? []
  }

  /** Asks for its DynamoDB tally and waits for the answer. */
  async report(): Promise<WorkerEventOf<'dynamodb'>> {
    const before = this.of('dynamodb').length
    this.send('report')
    await mustReach(`${this.id} reporting its DynamoDB tally`, () => this.of('dynamodb').length > before, 10_000)
    return this.of('dynamodb').at(-1)!
  }

  /** SIGKILL: no shutdown, no lease released, nothing flushed. */
  async kill(): Promise<void> {
    if (this.exited) return
    this.#child.kill('SIGKILL')
    await this.#exited
  }
}

/** One worker config per id: the same backends, stream, application and options for the whole fleet. */
export function fleetConfigs(
  endpoints: Pick<WorkerConfig, 'kinesisEndpoint' | 'dynamodbEndpoint'>,
  fleet: {
    readonly streamName: string
    readonly applicationName: string
    readonly options?: WorkerConfig['options'] | undefined
  },
  workerIds: readonly string[],
): WorkerConfig[] {
  const { kinesisEndpoint, dynamodbEndpoint } = endpoints
  const { streamName, applicationName, options } = fleet
  return workerIds.map((workerId) => ({
    kinesisEndpoint,
    dynamodbEndpoint,
    streamName,
    applicationName,
    workerId,
    ...(options === undefined ? {} : { options }),
  }))
}

/** Starts the workers, waits until every one has loaded, then starts their consumers at the same moment. */
export async function startFleet(configs: readonly WorkerConfig[]): Promise<WorkerProcess[]> {
  const workers = configs.map((config) => new WorkerProcess(config))
  try {
    await mustReach('every worker process loaded', () => workers.every((w) => w.has('ready')), 60_000)
    for (const worker of workers) {
      worker.startSentAt = Date.now()
      worker.send('start')
    }
    await mustReach('every consumer started', () => workers.every((w) => w.has('started')), 60_000)
    return workers
  } catch (error) {
    await stopFleet(workers)
    throw error
  }
}

export async function stopFleet(workers: readonly WorkerProcess[]): Promise<void> {
  await Promise.all(workers.map((w) => w.kill()))
}

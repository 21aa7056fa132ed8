import { existsSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { isAbsolute, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ClosedError, ConfigurationError, type Logger, integerOption, oneOf, silentLogger } from '@kinesis-ts/shared'
import { Piscina } from 'piscina'
import type { ProcessorHost } from '../seams.js'
import { WorkerShardProcessor } from './worker-processor.js'

export interface WorkerThreadHostOptions {
  /** A module whose default export creates a ShardRecordProcessor (called once per lane). */
  readonly processorModule: URL | string
  /** Threads in the pool; default: os.availableParallelism(). */
  readonly workerThreads?: number | undefined
  /** Lanes per shard (default 1): records spread by partition key hash, per-key order kept. */
  readonly lanesPerShard?: number | undefined
  /** 'retry' (default): a batch whose thread dies is redelivered until it succeeds; 'skip': once. */
  readonly processingErrorPolicy?: 'retry' | 'skip' | undefined
  /**
   * Node flags for the worker threads. Default: inherited, plus `--import tsx` when running from the
   * TypeScript sources (tests), so .ts processor modules load too.
   */
  readonly execArgv?: readonly string[] | undefined
  readonly logger?: Logger | undefined
}

export interface WorkerThreadHost extends ProcessorHost {
  create(shardId: string): WorkerShardProcessor
  /** Terminates the pool's threads now, ending lane calls still running (they reject, not redelivered). */
  destroy(): Promise<void>
  readonly threads: number
  readonly lanesPerShard: number
}

/**
 * What the lane workers import. A file (a file: URL, an absolute path, or a path starting with '.',
 * taken from the current directory) must exist: a typo fails at construction, not in every lane.
 * Other strings are package specifiers, resolved by the workers.
 */
function moduleSpecifier(module: URL | string): string {
  let file: string
  if (module instanceof URL) {
    if (module.protocol !== 'file:') return module.href
    file = fileURLToPath(module)
  } else if (typeof module === 'string' && module.length > 0) {
    if (!module.startsWith('.') && !isAbsolute(module)) return module
    file = resolve(module)
  } else {
    throw new ConfigurationError('processorModule', 'a URL or a module path', module)
  }
  if (!existsSync(file)) throw new ConfigurationError('processorModule', 'an existing module file', file)
  return file
}

/** The lane task file next to this one: .ts from the sources, .js from the build (a tsup entry of its own). */
function laneWorkerFile(): { filename: string; fromSources: boolean } {
  const fromSources = import.meta.url.endsWith('.ts')
  return {
    filename: fileURLToPath(new URL(`./lane-worker.${fromSources ? 'ts' : 'js'}`, import.meta.url)),
    fromSources,
  }
}

/**
 * Record processing in a piscina pool. Each lane of each shard is one long-lived pool task that owns
 * its processor instance, so a processor keeps its state across batches on one thread; the balancer
 * puts a new lane on the least busy thread, which spreads the lanes of a hot shard over different cores.
 */
export function createWorkerThreadHost(options: WorkerThreadHostOptions): WorkerThreadHost {
  const processorModule = moduleSpecifier(options.processorModule)
  const threads = integerOption('workerThreads', options.workerThreads, availableParallelism(), 1, 1_024)
  const lanesPerShard = integerOption('lanesPerShard', options.lanesPerShard, 1, 1, 1_024)
  const policy = oneOf('processingErrorPolicy', options.processingErrorPolicy, ['retry', 'skip'], 'retry')
  const logger = options.logger ?? silentLogger
  const { filename, fromSources } = laneWorkerFile()
  const execArgv = options.execArgv ?? (fromSources ? [...process.execArgv, '--import', 'tsx'] : undefined)
  const pool = new Piscina({
    filename,
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: Number.POSITIVE_INFINITY,
    // Lane tasks live as long as their lease and wait on their port: many share a thread.
    concurrentTasksPerWorker: 1 << 16,
    // Lane tasks need their thread's event loop; Atomics.wait between tasks would block it.
    atomics: 'disabled',
    ...(execArgv === undefined ? {} : { execArgv: [...execArgv] }),
    loadBalancer: (_task, workers) => {
      let best: (typeof workers)[number] | null = null
      let size = 0
      for (const worker of workers) {
        size++
        if (best === null || worker.currentUsage < best.currentUsage) best = worker
      }
      // A thread still starting is better than doubling up on a busy one.
      return best !== null && best.currentUsage > 0 && size < threads ? null : best
    },
  })
  pool.on('error', (error: unknown) => logger.error({ err: error }, 'worker-thread pool error'))
  const processors = new Set<WorkerShardProcessor>()
  let closing: Promise<void> | undefined
  let destroyed = false
  let poolDestroyed: Promise<void> | undefined
  const destroyPool = () => {
    poolDestroyed ??= pool.destroy()
    return poolDestroyed
  }

  return {
    threads,
    lanesPerShard,
    create(shardId) {
      if (closing !== undefined) throw new ClosedError('worker-thread host')
      const processor: WorkerShardProcessor = new WorkerShardProcessor({
        pool,
        processorModule,
        lanes: lanesPerShard,
        processingErrorPolicy: policy,
        logger: logger.child?.({ shardId }) ?? logger,
        crashBackoff: { baseMs: 100, maxMs: 5_000 },
        // Once the host is going away, a dead thread is not replaced and its call not redelivered.
        closed: () => closing !== undefined || destroyed,
        onClose: () => processors.delete(processor),
      })
      processors.add(processor)
      return processor
    },
    close() {
      closing ??= (async () => {
        await Promise.allSettled([...processors].map((processor) => processor.stop()))
        await destroyPool()
      })()
      return closing
    },
    destroy() {
      // Terminating the threads ends every lane task, also one stuck in a call, and with it a close()
      // that was waiting for that call.
      destroyed = true
      return destroyPool()
    },
  }
}

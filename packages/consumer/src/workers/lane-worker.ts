/**
 * The piscina task of one lane: loads the user's processor module, creates the lane's processor and
 * serves its lifecycle calls, one at a time and in order, until told to stop. The task stays alive
 * for the lease's lifetime, which pins the processor (and its state) to one thread.
 * Imports types only besides its own folder (see wire.ts).
 */
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { ShardRecordProcessor } from '../types.js'
import { RelayCheckpointer } from './relay-checkpointer.js'
import { type LaneTask, type ToLane, toWireError, unpackRecords } from './wire.js'

type ProcessorFactory = (context: { shardId: string; lane: number; lanes: number }) =>
  | ShardRecordProcessor
  | Promise<ShardRecordProcessor>

/**
 * import(), and require() when the ESM loader refuses the file: a TypeScript module in development
 * (tsx hooks require() in worker threads on every Node version, import() not on all of them).
 */
async function load(url: string): Promise<{ default?: unknown }> {
  try {
    return (await import(url)) as { default?: unknown }
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw error
    return createRequire(import.meta.url)(fileURLToPath(url)) as { default?: unknown }
  }
}

const modules = new Map<string, Promise<ProcessorFactory>>()

function factoryOf(specifier: string): Promise<ProcessorFactory> {
  let factory = modules.get(specifier)
  if (factory === undefined) {
    const url =
      /^[a-z][a-z0-9+.-]*:/i.test(specifier) && !/^[a-z]:[\\/]/i.test(specifier)
        ? specifier
        : pathToFileURL(specifier).href
    factory = load(url).then((module: { default?: unknown }) => {
      // A CommonJS module compiled from `export default` (exports.default = fn) arrives one level down.
      const nested = (module.default as { default?: unknown } | undefined)?.default
      const create = typeof module.default === 'function' ? module.default : nested
      if (typeof create !== 'function') {
        throw new TypeError(`processorModule ${specifier} has no default export creating a ShardRecordProcessor`)
      }
      return create as ProcessorFactory
    })
    modules.set(specifier, factory)
  }
  return factory
}

async function serve(
  processor: ShardRecordProcessor,
  checkpointer: RelayCheckpointer,
  shardId: string,
  call: ToLane & { type: 'call' },
) {
  switch (call.method) {
    case 'initialize':
      return processor.initialize({
        shardId,
        extendedSequenceNumber: call.position ?? { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 },
      })
    case 'processRecords':
      return processor.processRecords({
        records: unpackRecords(call.records ?? [], call.data ?? new ArrayBuffer(0)),
        checkpointer,
        millisBehindLatest: call.millisBehindLatest ?? 0,
      })
    case 'leaseLost':
      return processor.leaseLost({})
    case 'shardEnded':
      return processor.shardEnded({ checkpointer })
    case 'shutdownRequested':
      return processor.shutdownRequested({ checkpointer })
  }
}

export default async function runLane(task: LaneTask): Promise<void> {
  const { port } = task
  const checkpointer = new RelayCheckpointer(port)
  const created = factoryOf(task.processorModule).then((factory) =>
    factory({ shardId: task.shardId, lane: task.lane, lanes: task.lanes }),
  )
  created.catch(() => {})
  let chain: Promise<void> = Promise.resolve()
  await new Promise<void>((resolve) => {
    port.on('message', (message: ToLane) => {
      if (message.type === 'checkpointResult') {
        checkpointer.settle(message.callId, message.error, message.pending)
        return
      }
      if (message.type === 'stop') {
        chain = chain.then(() => {
          port.close()
          resolve()
        })
        return
      }
      chain = chain.then(async () => {
        try {
          const processor = await created
          await serve(processor, checkpointer, task.shardId, message)
          port.postMessage({ type: 'done', id: message.id })
        } catch (error) {
          port.postMessage({ type: 'done', id: message.id, error: toWireError(error) })
        }
      })
    })
  })
}

/**
 * Worker side: a Checkpointer whose calls are answered by the main thread, where the lease lives.
 * Imports types only (see wire.ts).
 */
import type { MessagePort } from 'node:worker_threads'
import type { Checkpointer, ExtendedSequenceNumber, KinesisClientRecord, PreparedCheckpointer } from '../types.js'
import type { CheckpointOp, FromLane, WireError } from './wire.js'

const BRAND = Symbol.for('kinesis-ts.error')

/**
 * The main thread's error, rebuilt with its name, message and `code`, and branded as kinesis-ts
 * errors are, so `err instanceof ShutdownError` and `err.code === 'ERR_SHUTDOWN'` both hold in the worker.
 */
export function fromWireError(wire: WireError): Error {
  const error = new Error(wire.message) as Error & { code?: string; retriable?: boolean }
  error.name = wire.name
  if (wire.code !== undefined) {
    error.code = wire.code
    error.retriable = wire.retriable ?? false
    Object.defineProperty(error, BRAND, { value: wire.code })
  }
  return error
}

type Target = [] | [KinesisClientRecord] | [string, number?]

function targetOf(args: Target): ExtendedSequenceNumber | undefined {
  const [first, second] = args
  if (first === undefined) return undefined
  if (typeof first === 'string') return { sequenceNumber: first, subSequenceNumber: second ?? 0 }
  return { sequenceNumber: first.sequenceNumber, subSequenceNumber: first.subSequenceNumber }
}

export class RelayCheckpointer implements Checkpointer {
  readonly #port: MessagePort
  readonly #waiting = new Map<number, { resolve(pending?: ExtendedSequenceNumber): void; reject(e: Error): void }>()
  #nextId = 0

  constructor(port: MessagePort) {
    this.#port = port
  }

  settle(callId: number, error: WireError | undefined, pending: ExtendedSequenceNumber | undefined): void {
    const waiter = this.#waiting.get(callId)
    this.#waiting.delete(callId)
    if (error === undefined) waiter?.resolve(pending)
    else waiter?.reject(fromWireError(error))
  }

  checkpoint(...args: Target): Promise<void> {
    return this.#call('checkpoint', targetOf(args)).then(() => undefined)
  }

  async prepareCheckpoint(...args: Target): Promise<PreparedCheckpointer> {
    const callId = this.#nextId
    const pending = (await this.#call('prepare', targetOf(args))) ?? { sequenceNumber: '', subSequenceNumber: 0 }
    return {
      pendingCheckpoint: pending,
      checkpoint: () => this.#call('commit', undefined, callId).then(() => undefined),
    }
  }

  #call(
    op: CheckpointOp,
    target: ExtendedSequenceNumber | undefined,
    preparedId?: number,
  ): Promise<ExtendedSequenceNumber | undefined> {
    const callId = this.#nextId++
    return new Promise((resolve, reject) => {
      this.#waiting.set(callId, { resolve, reject })
      const message: FromLane = {
        type: 'checkpoint',
        callId,
        op,
        ...(target === undefined ? {} : { target }),
        ...(preparedId === undefined ? {} : { preparedId }),
      }
      this.#port.postMessage(message)
    })
  }
}

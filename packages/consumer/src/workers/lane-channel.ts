import { MessageChannel, type MessagePort } from 'node:worker_threads'
import { KinesisTsError } from '@kinesis-ts/shared'
import type { Piscina } from 'piscina'
import type { ExtendedSequenceNumber } from '../types.js'
import { type FromLane, type LaneTask, type LifecycleMethod, type ToLane, type WireError, toWireError } from './wire.js'

/** The worker thread running a lane exited (crashed) before finishing the call. */
export class WorkerCrashedError extends KinesisTsError {
  static readonly codes = new Set(['ERR_WORKER_CRASHED'])
  constructor(shardId: string, lane: number, cause: unknown) {
    super('ERR_WORKER_CRASHED', `Worker thread of shard ${shardId} lane ${lane} exited mid-call`, {
      cause,
      retriable: true,
    })
    this.name = 'WorkerCrashedError'
  }
}

/** A processing error thrown inside the worker, rebuilt in the main thread. */
export class WorkerProcessingError extends KinesisTsError {
  static readonly codes = new Set(['ERR_WORKER_PROCESSING'])
  readonly remote: WireError
  constructor(method: string, remote: WireError) {
    super('ERR_WORKER_PROCESSING', `${method} failed in a worker thread: ${remote.name}: ${remote.message}`, {
      retriable: true,
    })
    this.name = 'WorkerProcessingError'
    this.remote = remote
    if (remote.stack !== undefined) this.stack = `${this.stack}\n--- in the worker ---\n${remote.stack}`
  }
}

export type CheckpointRequest = Extract<FromLane, { type: 'checkpoint' }>
export type CheckpointHandler = (request: CheckpointRequest) => Promise<ExtendedSequenceNumber | undefined>

interface Waiter {
  resolve(): void
  reject(error: Error): void
  method: LifecycleMethod
}

/**
 * The main-thread end of one lane: a long-lived piscina task holding the lane's processor, reached
 * over a MessagePort. Calls are answered in order; checkpoint requests from the worker go to
 * `onCheckpoint` and their result (or error) goes back. When the thread dies, every waiting call
 * rejects with WorkerCrashedError and the channel is dead: make a new one (piscina replaces the thread).
 */
export class LaneChannel {
  readonly #port: MessagePort
  readonly #task: Promise<void>
  readonly #waiting = new Map<number, Waiter>()
  readonly #shardId: string
  readonly #lane: number
  #nextId = 0
  #dead: Error | undefined

  constructor(pool: Piscina, task: Omit<LaneTask, 'port'>, onCheckpoint: CheckpointHandler) {
    this.#shardId = task.shardId
    this.#lane = task.lane
    const { port1, port2 } = new MessageChannel()
    this.#port = port1
    port1.on('message', (message: FromLane) => {
      if (message.type === 'done') return this.#settle(message.id, message.error)
      onCheckpoint(message).then(
        (pending) => this.#post({ type: 'checkpointResult', callId: message.callId, ...(pending ? { pending } : {}) }),
        (error: unknown) => this.#post({ type: 'checkpointResult', callId: message.callId, error: toWireError(error) }),
      )
    })
    this.#task = pool.run({ ...task, port: port2 }, { transferList: [port2] as never[] })
    this.#task.then(
      () => this.#die(new WorkerCrashedError(task.shardId, task.lane, 'lane task ended')),
      (error: unknown) => this.#die(new WorkerCrashedError(task.shardId, task.lane, error)),
    )
  }

  get dead(): boolean {
    return this.#dead !== undefined
  }

  call(
    method: LifecycleMethod,
    payload: Omit<Extract<ToLane, { type: 'call' }>, 'type' | 'id' | 'method'> = {},
    transfer: ArrayBuffer[] = [],
  ): Promise<void> {
    if (this.#dead !== undefined) return Promise.reject(this.#dead)
    const id = this.#nextId++
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject, method })
      this.#port.postMessage({ type: 'call', id, method, ...payload } satisfies ToLane, transfer)
    })
  }

  /** Lets the lane finish its queued calls, then ends its task. */
  async stop(): Promise<void> {
    if (this.#dead !== undefined) return
    this.#post({ type: 'stop' })
    await this.#task.catch(() => {})
    this.#port.close()
  }

  #post(message: ToLane): void {
    if (this.#dead === undefined) this.#port.postMessage(message)
  }

  #settle(id: number, error: WireError | undefined): void {
    const waiter = this.#waiting.get(id)
    this.#waiting.delete(id)
    if (waiter === undefined) return
    if (error === undefined) waiter.resolve()
    else waiter.reject(new WorkerProcessingError(waiter.method, error))
  }

  #die(error: WorkerCrashedError): void {
    if (this.#dead !== undefined) return
    this.#dead = error
    for (const waiter of this.#waiting.values()) waiter.reject(error)
    this.#waiting.clear()
    this.#port.close()
  }

  toString(): string {
    return `lane ${this.#lane} of ${this.#shardId}`
  }
}

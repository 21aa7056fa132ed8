import { ClosedError, type Logger, backoffDelay, sleep } from '@kinesis-ts/shared'
import type { Piscina } from 'piscina'
import { ShutdownError } from '../errors.js'
import type { Isolation } from '../processing/isolation.js'
import type { SettlingProcessor } from '../seams.js'
import type {
  Checkpointer,
  ExtendedSequenceNumber,
  InitializationInput,
  KinesisClientRecord,
  LeaseLostInput,
  PreparedCheckpointer,
  ProcessRecordsInput,
  ShardEndedInput,
  ShutdownRequestedInput,
} from '../types.js'
import { type CheckpointRequest, LaneChannel, WorkerCrashedError } from './lane-channel.js'
import { lanesOf } from './lanes.js'
import { LowWaterMark } from './low-water-mark.js'
import { type LifecycleMethod, packRecords } from './wire.js'

export interface WorkerProcessorContext {
  readonly pool: Piscina
  readonly processorModule: string
  readonly lanes: number
  readonly processingErrorPolicy: 'retry' | 'skip'
  readonly logger: Logger
  readonly crashBackoff: { readonly baseMs: number; readonly maxMs: number }
  /** True once the host is closing or destroyed: dead threads are not replaced any more. */
  readonly closed: () => boolean
  readonly onClose: () => void
}

/**
 * The main-thread face of a shard whose processor runs in worker threads: one lane (a long-lived
 * piscina task holding its own processor instance) per `lanes`, records routed to lanes by partition
 * key. Checkpoints from lanes act on the Checkpointer the consumer handed in, directly with one lane,
 * through a low-water mark with several. A lane whose thread dies is restarted (initialize from the last
 * checkpoint) and its part of the batch redelivered; under 'skip' a second crash in a row gives up.
 * Under a dead-letter policy each lane settles its own part (`settleRecords`): a failure is isolated
 * within the lane that failed while the other lanes' records are delivered once.
 */
export class WorkerShardProcessor implements SettlingProcessor {
  readonly #context: WorkerProcessorContext
  readonly #channels: (LaneChannel | undefined)[]
  readonly #marks: LowWaterMark
  readonly #prepared = new Map<string, PreparedCheckpointer>()
  readonly #endVotes = new Set<number>()
  /** Per lane, the last record of the piece being isolated: what a bare checkpoint() there may name. */
  readonly #isolating: (ExtendedSequenceNumber | undefined)[]
  #shardId = ''
  #position: ExtendedSequenceNumber = { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 }
  #checkpointer: Checkpointer | undefined
  #phase: 'records' | 'shardEnded' | 'lost' = 'records'

  constructor(context: WorkerProcessorContext) {
    this.#context = context
    this.#channels = new Array(context.lanes).fill(undefined)
    this.#marks = new LowWaterMark(context.lanes)
    this.#isolating = new Array(context.lanes).fill(undefined)
  }

  async initialize(input: InitializationInput): Promise<void> {
    this.#shardId = input.shardId
    this.#position = input.extendedSequenceNumber
    await Promise.all(this.#channels.map((_, lane) => this.#channel(lane)))
  }

  async processRecords(input: ProcessRecordsInput): Promise<void> {
    this.#checkpointer = input.checkpointer
    const { records, millisBehindLatest } = input
    const byLane = this.#split(records)
    await this.#all(
      byLane.map((part, lane) =>
        part.length === 0 && records.length > 0
          ? undefined
          : () => {
              // Packed per attempt: the transferred buffer is gone from this thread after sending.
              const { records: wire, data } = packRecords(part)
              return {
                lane,
                method: 'processRecords',
                payload: { records: wire, data, millisBehindLatest },
                transfer: [data],
              }
            },
      ),
    )
  }

  async settleRecords(input: ProcessRecordsInput, isolation: Isolation): Promise<boolean> {
    this.#checkpointer = input.checkpointer
    const { records, millisBehindLatest } = input
    const byLane = this.#split(records)
    const settled = await Promise.all(
      byLane.map((part, lane) =>
        part.length === 0 && records.length > 0
          ? true
          : isolation.settle(part, (piece) => this.#tryLane(lane, piece, millisBehindLatest)),
      ),
    )
    return settled.every(Boolean)
  }

  /** One try of a lane's piece; a crash of its thread is a failed try (the isolation tries again on a new one). */
  async #tryLane(lane: number, piece: KinesisClientRecord[], millisBehindLatest: number): Promise<void> {
    const last = piece.at(-1)
    this.#isolating[lane] =
      last === undefined
        ? undefined
        : { sequenceNumber: last.sequenceNumber, subSequenceNumber: last.subSequenceNumber }
    try {
      const { records: wire, data } = packRecords(piece)
      // A dead channel is replaced by #channel (initialize from the last checkpoint) on the next try.
      const channel = await this.#channel(lane)
      await channel.call('processRecords', { records: wire, data, millisBehindLatest }, [data])
    } finally {
      this.#isolating[lane] = undefined
    }
  }

  /** The records of each lane, in shard order; the low-water mark learns where they went. */
  #split(records: readonly KinesisClientRecord[]): KinesisClientRecord[][] {
    const lanes = lanesOf(records, this.#context.lanes)
    if (this.#context.lanes > 1) this.#marks.add(records, lanes)
    const byLane: KinesisClientRecord[][] = this.#channels.map(() => [])
    records.forEach((record, i) => byLane[lanes[i] ?? 0]?.push(record))
    return byLane
  }

  async leaseLost(_input: LeaseLostInput = {}): Promise<void> {
    this.#phase = 'lost'
    try {
      await this.#broadcast('leaseLost')
    } finally {
      await this.#stop()
    }
  }

  async shardEnded(input: ShardEndedInput): Promise<void> {
    this.#checkpointer = input.checkpointer
    this.#phase = 'shardEnded'
    this.#endVotes.clear()
    try {
      await this.#broadcast('shardEnded')
      // With lanes, SHARD_END is written once every lane has asked for it.
      if (this.#context.lanes > 1 && this.#endVotes.size === this.#context.lanes) await input.checkpointer.checkpoint()
    } finally {
      await this.#stop()
    }
  }

  async shutdownRequested(input: ShutdownRequestedInput): Promise<void> {
    this.#checkpointer = input.checkpointer
    await this.#broadcast('shutdownRequested')
  }

  /** Ends the lane tasks (idempotent); the host calls it on close. */
  async stop(): Promise<void> {
    await this.#stop()
  }

  #broadcast(method: LifecycleMethod): Promise<void> {
    return this.#all(this.#channels.map((_, lane) => () => ({ lane, method, payload: {}, transfer: [] })))
  }

  async #all(
    calls: (
      | (() => {
          lane: number
          method: LifecycleMethod
          payload: Parameters<LaneChannel['call']>[1]
          transfer: ArrayBuffer[]
        })
      | undefined
    )[],
  ): Promise<void> {
    const results = await Promise.allSettled(
      calls.map((make) => (make === undefined ? undefined : this.#deliver(make))),
    )
    const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected')
    if (failed !== undefined) throw failed.reason
  }

  /** One call on one lane, redelivered on a fresh thread if the lane's thread dies meanwhile. */
  async #deliver(
    make: () => {
      lane: number
      method: LifecycleMethod
      payload: Parameters<LaneChannel['call']>[1]
      transfer: ArrayBuffer[]
    },
  ): Promise<void> {
    for (let crashes = 0; ; crashes++) {
      const { lane, method, payload, transfer } = make()
      const channel = await this.#channel(lane)
      try {
        return await channel.call(method, payload, transfer)
      } catch (error) {
        if (!(error instanceof WorkerCrashedError)) throw error
        this.#channels[lane] = undefined
        if (this.#context.closed()) throw error
        this.#context.logger.warn({ shardId: this.#shardId, lane, method, crashes }, 'worker thread died; redelivering')
        if (this.#context.processingErrorPolicy === 'skip' && crashes >= 1) throw error
        if (method === 'leaseLost') return
        await sleep(crashes === 0 ? 0 : backoffDelay(crashes - 1, this.#context.crashBackoff))
      }
    }
  }

  async #channel(lane: number): Promise<LaneChannel> {
    const existing = this.#channels[lane]
    if (existing !== undefined && !existing.dead) return existing
    if (this.#context.closed()) throw new ClosedError('worker-thread host')
    const channel = new LaneChannel(
      this.#context.pool,
      { processorModule: this.#context.processorModule, shardId: this.#shardId, lane, lanes: this.#context.lanes },
      (request) => this.#onCheckpoint(lane, request),
    )
    this.#channels[lane] = channel
    await channel.call('initialize', { position: this.#position })
    return channel
  }

  async #onCheckpoint(lane: number, request: CheckpointRequest): Promise<ExtendedSequenceNumber | undefined> {
    const checkpointer = this.#checkpointer
    if (checkpointer === undefined || this.#phase === 'lost') {
      throw new ShutdownError(this.#shardId, 'the lease was lost (checkpoint from a worker thread)')
    }
    if (request.op === 'commit') {
      const key = `${lane}:${request.preparedId}`
      const prepared = this.#prepared.get(key)
      this.#prepared.delete(key)
      await prepared?.checkpoint()
      if (prepared !== undefined) this.#position = prepared.pendingCheckpoint
      return undefined
    }
    const target =
      this.#context.lanes === 1 ? (request.target ?? this.#isolating[lane]) : this.#laneTarget(lane, request)
    if (target === null) return request.target
    if (request.op === 'prepare') {
      const prepared = await (target === undefined
        ? checkpointer.prepareCheckpoint()
        : checkpointer.prepareCheckpoint(target.sequenceNumber, target.subSequenceNumber))
      this.#prepared.set(`${lane}:${request.callId}`, prepared)
      return prepared.pendingCheckpoint
    }
    await (target === undefined
      ? checkpointer.checkpoint()
      : checkpointer.checkpoint(target.sequenceNumber, target.subSequenceNumber))
    if (target !== undefined) this.#position = target
    return undefined
  }

  /**
   * With several lanes: what a lane's checkpoint means for the shard. null when the mark did not
   * move (the lane's progress is recorded; a slower lane holds the shard checkpoint back).
   */
  #laneTarget(lane: number, request: CheckpointRequest): ExtendedSequenceNumber | undefined | null {
    if (this.#phase === 'shardEnded' && request.target === undefined) {
      this.#endVotes.add(lane)
      return null
    }
    const done = request.target ?? this.#isolating[lane] ?? this.#marks.lastDelivered(lane)
    if (done === undefined) return null
    const moved = this.#marks.complete(lane, done)
    if (request.op === 'prepare') return this.#marks.mark ?? null
    return moved ?? null
  }

  async #stop(): Promise<void> {
    const channels = this.#channels.splice(0, this.#channels.length, ...this.#channels.map(() => undefined))
    await Promise.all(channels.map((channel) => channel?.stop()))
    this.#context.onClose()
  }
}

import type { Logger, MetricsSink } from '@kinesis-ts/shared'
import { InvalidCheckpointError, ShutdownError } from './errors.js'
import type { HeldLease } from './leases/held-lease.js'
import type { LeaseStore } from './leases/lease-store.js'
import type { Lease } from './leases/lease.js'
import { METRICS } from './metrics.js'
import { SHARD_END, compareExtended, formatExtended, isSequenceNumber } from './records/sequence.js'
import type { Checkpointer, ExtendedSequenceNumber, KinesisClientRecord, PreparedCheckpointer } from './types.js'

export interface CheckpointerOptions {
  readonly held: HeldLease
  readonly store: LeaseStore
  readonly workerId: string
  readonly logger: Logger
  readonly metrics: MetricsSink
}

type Target = [] | [KinesisClientRecord] | [string, number?]

/**
 * The processor's handle on its lease's checkpoint. Accepts only positions between the last
 * checkpoint and the last record delivered (the Java KCL's rule), writes conditionally on the lease
 * counter, and refuses with ShutdownError once the lease is no longer ours.
 */
export class ShardCheckpointer implements Checkpointer {
  readonly #options: CheckpointerOptions
  #largestPermitted: ExtendedSequenceNumber
  #shardEnded = false
  #closedReason: string | undefined

  constructor(options: CheckpointerOptions) {
    this.#options = options
    this.#largestPermitted = options.held.lease.checkpoint
  }

  get shardId(): string {
    return this.#options.held.leaseKey
  }

  get lastCheckpoint(): ExtendedSequenceNumber {
    return this.#options.held.lease.checkpoint
  }

  /** Called before each batch is handed over: the newest position a checkpoint may name. */
  setLargestPermitted(position: ExtendedSequenceNumber): void {
    this.#largestPermitted = { sequenceNumber: position.sequenceNumber, subSequenceNumber: position.subSequenceNumber }
  }

  /** Inside shardEnded: checkpoint() means SHARD_END. */
  markShardEnded(): void {
    this.#shardEnded = true
    this.#largestPermitted = SHARD_END
  }

  /** No more checkpoints (the lease was released or handed over). */
  close(reason: string): void {
    this.#closedReason ??= reason
  }

  checkpoint(...args: Target): Promise<void> {
    return this.#run(args, async (target) => {
      await this.#write((lease, signal) =>
        this.#options.store.checkpoint(lease, this.#options.workerId, target, signal),
      )
    })
  }

  prepareCheckpoint(...args: Target): Promise<PreparedCheckpointer> {
    return this.#run(args, async (pending) => {
      await this.#write((lease, signal) =>
        this.#options.store.prepareCheckpoint(lease, this.#options.workerId, pending, signal),
      )
      return {
        pendingCheckpoint: pending,
        checkpoint: () =>
          this.#run([pending.sequenceNumber, pending.subSequenceNumber], async (target) => {
            await this.#write((lease, signal) =>
              this.#options.store.checkpoint(lease, this.#options.workerId, target, signal),
            )
          }),
      }
    })
  }

  async #run<T>(args: Target, action: (target: ExtendedSequenceNumber) => Promise<T>): Promise<T> {
    this.#assertOpen()
    return action(this.#targetOf(args))
  }

  #assertOpen(): void {
    if (this.#options.held.lost) throw new ShutdownError(this.shardId, 'the lease was lost')
    if (this.#closedReason !== undefined) throw new ShutdownError(this.shardId, this.#closedReason)
  }

  #targetOf(args: Target): ExtendedSequenceNumber {
    const [first, second] = args
    let target: ExtendedSequenceNumber
    if (first === undefined) return this.#shardEnded ? SHARD_END : this.#largestPermitted
    if (typeof first === 'object' && first !== null) {
      target = { sequenceNumber: first.sequenceNumber, subSequenceNumber: first.subSequenceNumber }
    } else {
      target = { sequenceNumber: first, subSequenceNumber: second ?? 0 }
    }
    const { sequenceNumber, subSequenceNumber } = target
    if (!(isSequenceNumber(sequenceNumber) || (this.#shardEnded && sequenceNumber === SHARD_END.sequenceNumber))) {
      throw new InvalidCheckpointError(this.shardId, `${JSON.stringify(sequenceNumber)} is not a sequence number`)
    }
    if (!Number.isSafeInteger(subSequenceNumber) || subSequenceNumber < 0) {
      throw new InvalidCheckpointError(this.shardId, `sub-sequence number ${subSequenceNumber} is not an integer >= 0`)
    }
    const last = this.lastCheckpoint
    if (compareExtended(target, last) < 0 || compareExtended(target, this.#largestPermitted) > 0) {
      throw new InvalidCheckpointError(
        this.shardId,
        `${formatExtended(target)} is outside [${formatExtended(last)}, ${formatExtended(this.#largestPermitted)}] (last checkpoint, last record delivered)`,
      )
    }
    return target
  }

  /**
   * A checkpoint write waits behind the lease's other writes; once the lease is lost (taken, fenced)
   * it is not sent, and one in flight is cut short, so a processor stuck in checkpoint() ends its batch
   * when the lease ends, not a call timeout later, while another worker may already hold the shard.
   */
  async #write(op: (lease: Lease, signal: AbortSignal) => Promise<Lease | undefined>): Promise<void> {
    const { held } = this.#options
    const started = performance.now()
    let written: Lease | undefined
    try {
      written = await held.write((lease) => {
        if (held.lost) throw new ShutdownError(this.shardId, 'the lease was lost')
        return op(lease, held.lostSignal)
      })
    } catch (error) {
      if (held.lost) throw new ShutdownError(this.shardId, 'the lease was lost')
      throw error
    }
    this.#options.metrics.put(METRICS.checkpointTime, performance.now() - started, 'Milliseconds')
    this.#options.metrics.put(METRICS.checkpointSuccess, written === undefined ? 0 : 1, 'Count')
    if (written === undefined) {
      // The write already read the item again: it names another worker (or is gone).
      this.#options.held.markLost('another worker holds it now (checkpoint condition failed)')
      throw new ShutdownError(this.shardId, 'the lease was taken by another worker')
    }
  }
}

import type { ShardRecordProcessor } from '../../../packages/consumer/src/index.js'

export interface FaultDelivery {
  readonly workerId: string
  readonly shardId: string
  readonly data: string
  readonly sequenceNumber: string
  readonly at: number
}

export type TenureEnd = 'leaseLost' | 'shardEnded' | 'shutdownRequested'

/** One processor instance: a worker's hold on a shard, from initialize to its last callback. */
export interface Tenure {
  readonly id: number
  readonly workerId: string
  shardId: string
  readonly createdAt: number
  initializedAt: number | undefined
  endedAt: number | undefined
  end: TenureEnd | undefined
  /** processRecords calls with records: start, end (undefined while running) and whether it threw. */
  readonly batches: { start: number; end: number | undefined; records: number; failed: boolean }[]
  checkpointFailures: number
}

/**
 * What every processor of a scenario saw, with times: deliveries, and per processor instance
 * (tenure) its lifecycle calls and batches, so overlap between owners and processors left without
 * a lease can be measured afterwards.
 */
export class FaultJournal {
  readonly deliveries: FaultDelivery[] = []
  readonly tenures: Tenure[] = []
  readonly #distinct = new Set<string>()

  /** Distinct data strings delivered so far. */
  get distinct(): ReadonlySet<string> {
    return this.#distinct
  }

  /**
   * A processor like a typical KCL application's: it records the batch, then checkpoints it; a
   * failed checkpoint throws out of processRecords, so the consumer redelivers the batch.
   */
  processor(workerId: string): ShardRecordProcessor {
    const tenure: Tenure = {
      id: this.tenures.length + 1,
      workerId,
      shardId: '',
      createdAt: Date.now(),
      initializedAt: undefined,
      endedAt: undefined,
      end: undefined,
      batches: [],
      checkpointFailures: 0,
    }
    this.tenures.push(tenure)
    const ended = (end: TenureEnd) => {
      tenure.end ??= end
      tenure.endedAt ??= Date.now()
    }
    const checkpointing = async (checkpoint: () => Promise<void>) => {
      try {
        await checkpoint()
      } catch (error) {
        tenure.checkpointFailures++
        throw error
      }
    }
    return {
      initialize: (input) => {
        tenure.shardId = input.shardId
        tenure.initializedAt = Date.now()
      },
      processRecords: async (input) => {
        if (input.records.length === 0) return
        const batch = {
          start: Date.now(),
          end: undefined as number | undefined,
          records: input.records.length,
          failed: true,
        }
        tenure.batches.push(batch)
        try {
          for (const record of input.records) {
            const data = Buffer.from(record.data).toString()
            this.deliveries.push({
              workerId,
              shardId: tenure.shardId,
              data,
              sequenceNumber: record.sequenceNumber,
              at: batch.start,
            })
            this.#distinct.add(data)
          }
          await checkpointing(() => input.checkpointer.checkpoint())
          batch.failed = false
        } finally {
          batch.end = Date.now()
        }
      },
      leaseLost: () => ended('leaseLost'),
      shardEnded: async (input) => {
        await checkpointing(() => input.checkpointer.checkpoint())
        ended('shardEnded')
      },
      shutdownRequested: async (input) => {
        // The tenure ends when the application is done, after its final checkpoint: renewals while that
        // checkpoint is slow (a hung DynamoDB call) keep a working processor's lease, not a zombie's.
        try {
          await checkpointing(() => input.checkpointer.checkpoint())
        } finally {
          ended('shutdownRequested')
        }
      },
    }
  }
}

import type { KinesisClientRecord, ProcessRecordsInput, ShardRecordProcessor } from '@kinesis-ts/consumer'
import { decodeDemoRecord, isPoisonRecord } from './record-format.js'

/** One processRecords call's worth of demo deliveries: ids and put → process latencies. */
export interface DeliveryReport {
  readonly shardId: string
  readonly ids: Uint32Array
  readonly latenciesMs: Float64Array
  /** Records that were not demo records. */
  readonly foreign: number
}

/**
 * The demo's processor: reads each record's id and send time, reports them, and checkpoints after
 * every batch; a batch holding the poison record (--poison) throws (and at shard end and shutdown, as the KCL contract asks). The same class runs in
 * the main thread and in worker threads; only the `report` function differs.
 */
export class DemoProcessor implements ShardRecordProcessor {
  #shardId = 'unknown'
  readonly #report: (report: DeliveryReport) => void | Promise<void>

  constructor(report: (report: DeliveryReport) => void | Promise<void>) {
    this.#report = report
  }

  initialize({ shardId }: { shardId: string }): void {
    this.#shardId = shardId
  }

  async processRecords({ records, checkpointer }: ProcessRecordsInput): Promise<void> {
    if (records.length === 0) return
    // Only written with --poison, where the dead-letter policy isolates it.
    if (records.some((record) => isPoisonRecord(record.data))) throw new Error('the demo poison record')
    await this.#report(summarize(this.#shardId, records, Date.now()))
    await checkpointer.checkpoint()
  }

  leaseLost(): void {}

  async shardEnded({ checkpointer }: { checkpointer: ProcessRecordsInput['checkpointer'] }): Promise<void> {
    await checkpointer.checkpoint()
  }

  async shutdownRequested({ checkpointer }: { checkpointer: ProcessRecordsInput['checkpointer'] }): Promise<void> {
    await checkpointer.checkpoint()
  }
}

function summarize(shardId: string, records: readonly KinesisClientRecord[], nowMs: number): DeliveryReport {
  const ids = new Uint32Array(records.length)
  const latenciesMs = new Float64Array(records.length)
  let count = 0
  for (const record of records) {
    const decoded = decodeDemoRecord(record.data)
    if (decoded === undefined) continue
    ids[count] = decoded.id
    latenciesMs[count] = nowMs - decoded.sentAtMs
    count++
  }
  return {
    shardId,
    ids: ids.subarray(0, count),
    latenciesMs: latenciesMs.subarray(0, count),
    foreign: records.length - count,
  }
}

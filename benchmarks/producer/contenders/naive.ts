import type { PutRecordsRequestEntry } from '@aws-sdk/client-kinesis'
import { type Contender, peerClient } from './context.js'
import { putUntilAccepted } from './put-until-accepted.js'

const CONCURRENCY = 24
const ENTRIES_PER_CALL = 500

/**
 * The naive loop: the SDK's PutRecords with raw records (no aggregation), 500 per call, 24 calls in flight,
 * failed entries retried until accepted.
 */
export const naive: Contender = async (context) => {
  const { feeder } = context
  const { workload } = feeder
  const client = peerClient(context, CONCURRENCY)
  const worker = async () => {
    for (;;) {
      const { from, count } = feeder.take(ENTRIES_PER_CALL)
      if (count === 0) {
        if (feeder.exhausted) return
        await feeder.settlement()
        continue
      }
      const entries: PutRecordsRequestEntry[] = []
      for (let id = from; id < from + count; id++) {
        entries.push({ PartitionKey: workload.keyOf(id), Data: workload.dataOf(id) })
      }
      await putUntilAccepted(client, context.streamName, entries)
      for (let id = from; id < from + count; id++) feeder.succeed(id)
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  await feeder.allSettled(context.settleTimeoutMs)
  client.destroy()
}

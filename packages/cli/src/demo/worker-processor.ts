/**
 * The demo's processor module for worker threads (`processorModule`): reports deliveries to the
 * main thread over a BroadcastChannel named by the demo run, since a worker shares no memory with
 * it. Each report waits for the main thread's acknowledgement before the batch counts as
 * processed: batches of one shard may run on different threads, and the verifier's per-key order
 * check needs to see them in the order they were processed.
 */
import { BroadcastChannel, threadId } from 'node:worker_threads'
import { type DeliveryReport, DemoProcessor } from './processor.js'

export const DEMO_CHANNEL_VARIABLE = 'KINESIS_TS_DEMO_CHANNEL'

export interface WorkerDeliveryMessage extends DeliveryReport {
  readonly reportId: string
}

export interface DeliveryAck {
  readonly ack: string
}

let channel: BroadcastChannel | undefined
const waiting = new Map<string, () => void>()
let sent = 0

function openChannel(): BroadcastChannel {
  const name = process.env[DEMO_CHANNEL_VARIABLE]
  if (name === undefined) throw new Error(`${DEMO_CHANNEL_VARIABLE} is not set: this module belongs to the demo`)
  const opened = new BroadcastChannel(name)
  opened.onmessage = (event: unknown) => {
    const ack = (event as { data?: Partial<DeliveryAck> }).data?.ack
    if (ack !== undefined) waiting.get(ack)?.()
  }
  // An idle worker thread must be free to exit.
  opened.unref()
  return opened
}

function report(delivery: DeliveryReport): Promise<void> {
  channel ??= openChannel()
  const reportId = `${threadId}:${sent++}`
  const acknowledged = new Promise<void>((resolve) => {
    waiting.set(reportId, () => {
      waiting.delete(reportId)
      resolve()
    })
  })
  channel.postMessage({ ...delivery, reportId } satisfies WorkerDeliveryMessage)
  return acknowledged
}

export default function createProcessor(): DemoProcessor {
  return new DemoProcessor(report)
}

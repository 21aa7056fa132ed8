import { sleep } from '@kinesis-ts/shared'
import { LatencyRecorder } from './latency.js'
import { DeliveryLedger } from './ledger.js'
import type { DeliveryReport } from './processor.js'
import type { DeliveryAck, WorkerDeliveryMessage } from './worker-processor.js'

/** Everything the consumers delivered, from the main thread and from worker threads. */
export class DeliveryTracker {
  readonly ledger: DeliveryLedger
  readonly latencies = new LatencyRecorder()
  readonly perWorker = new Map<string, number>()
  firstDeliveryAt = Number.NaN

  constructor(expected: number, keys: number) {
    this.ledger = new DeliveryLedger(expected, keys)
  }

  get unique(): number {
    return this.ledger.unique
  }

  record(worker: string, report: DeliveryReport): void {
    if (Number.isNaN(this.firstDeliveryAt)) this.firstDeliveryAt = performance.now()
    for (let i = 0; i < report.ids.length; i++) {
      if (this.ledger.record(report.ids[i]!)) this.latencies.add(report.latenciesMs[i]!)
    }
    this.perWorker.set(worker, (this.perWorker.get(worker) ?? 0) + report.ids.length)
  }

  /** Receives worker-thread reports; returns the function that closes the channel. */
  listenToWorkerThreads(channelName: string, worker: string): () => void {
    const channel = new BroadcastChannel(channelName)
    channel.onmessage = (event: MessageEvent) => {
      const message = event.data as WorkerDeliveryMessage
      if (typeof message.reportId !== 'string') return
      this.record(worker, message)
      channel.postMessage({ ack: message.reportId } satisfies DeliveryAck)
    }
    return () => channel.close()
  }

  /**
   * Resolves when `done(this)` holds; rejects when no new record was consumed for `stallTimeoutMs`
   * (the run is stuck: the verification will say what is missing).
   */
  async waitFor(done: (tracker: this) => boolean, stallTimeoutMs: number, signal: AbortSignal): Promise<void> {
    let lastUnique = this.unique
    let lastProgress = Date.now()
    while (!done(this)) {
      await sleep(50, signal)
      if (this.unique !== lastUnique) {
        lastUnique = this.unique
        lastProgress = Date.now()
      } else if (Date.now() - lastProgress > stallTimeoutMs) {
        throw new Error(`no new record consumed for ${stallTimeoutMs} ms (${this.unique} consumed)`)
      }
    }
  }
}

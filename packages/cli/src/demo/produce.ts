import type { KinesisProducer } from '@kinesis-ts/producer'
import { ProduceTally, type ProduceTotals } from '../produce-tally.js'
import { encodeDemoRecord, partitionKeyOf } from './record-format.js'

export interface ProductionResult extends ProduceTotals {
  readonly seconds: number
}

export interface Production {
  /** Records offered so far. */
  readonly sent: number
  readonly done: Promise<ProductionResult>
}

/**
 * Offers the demo records in id order (so each key's records are offered in order) and calls
 * `onHalfway` once half of them are offered.
 */
export function produceDemoRecords(
  producer: KinesisProducer,
  options: { records: number; keys: number; recordBytes: number },
  signal: AbortSignal,
  onHalfway: () => void,
): Production {
  let sent = 0
  const tally = new ProduceTally(producer)
  const run = async (): Promise<ProductionResult> => {
    const startedAt = performance.now()
    for (let id = 0; id < options.records && !signal.aborted; id++) {
      await tally.offer({
        partitionKey: partitionKeyOf(id, options.keys),
        data: encodeDemoRecord(id, Date.now(), options.recordBytes),
      })
      sent++
      if (id + 1 === Math.floor(options.records / 2)) onHalfway()
    }
    const totals = await tally.settled()
    return { ...totals, seconds: (performance.now() - startedAt) / 1000 }
  }
  const done = run()
  return {
    get sent() {
      return sent
    },
    done,
  }
}

import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type {
  Checkpointer,
  ExtendedSequenceNumber,
  KinesisClientRecord,
  PreparedCheckpointer,
} from '../../../packages/consumer/src/types.js'

export const processorModule = new URL('../fixtures/recording-processor.ts', import.meta.url)

/** A fresh log file for the fixture processor; the pool's threads inherit it through the environment. */
export function useLog(): { dir: string; path: string; lines(kind?: string): string[][] } {
  const dir = mkdtempSync(join(tmpdir(), 'kts-workers-'))
  const path = join(dir, 'log')
  process.env.KTS_TEST_LOG = path
  return {
    dir,
    path,
    lines(kind) {
      let text = ''
      try {
        text = readFileSync(path, 'utf8')
      } catch {}
      return text
        .split('\n')
        .filter((line) => line.length > 0)
        .map((line) => line.split('|'))
        .filter((fields) => kind === undefined || fields[0] === kind)
    },
  }
}

let sequence = 1000n
/** Records with increasing sequence numbers, as a shard would deliver them. */
export function records(items: { key: string; data: string }[]): KinesisClientRecord[] {
  return items.map(({ key, data }) => ({
    data: Buffer.from(data),
    partitionKey: key,
    sequenceNumber: (sequence++).toString(),
    subSequenceNumber: 0,
    approximateArrivalTimestamp: new Date(),
    aggregated: false,
    headers: {},
  }))
}

/**
 * The main-thread Checkpointer the consumer would hand in, reduced to what these tests observe:
 * every checkpoint in call order, and a failure to throw (as the real one does once the lease is lost).
 */
export class RecordingCheckpointer implements Checkpointer {
  readonly calls: (ExtendedSequenceNumber | 'last')[] = []
  failWith: Error | undefined
  onCheckpoint: ((position: ExtendedSequenceNumber | 'last') => void) | undefined

  async checkpoint(first?: KinesisClientRecord | string, second?: number): Promise<void> {
    if (this.failWith !== undefined) throw this.failWith
    const position =
      first === undefined
        ? 'last'
        : typeof first === 'string'
          ? { sequenceNumber: first, subSequenceNumber: second ?? 0 }
          : { sequenceNumber: first.sequenceNumber, subSequenceNumber: first.subSequenceNumber }
    this.onCheckpoint?.(position)
    this.calls.push(position)
  }

  async prepareCheckpoint(first?: KinesisClientRecord | string, second?: number): Promise<PreparedCheckpointer> {
    if (this.failWith !== undefined) throw this.failWith
    const pendingCheckpoint =
      typeof first === 'string'
        ? { sequenceNumber: first, subSequenceNumber: second ?? 0 }
        : { sequenceNumber: first?.sequenceNumber ?? 'last', subSequenceNumber: first?.subSequenceNumber ?? 0 }
    return {
      pendingCheckpoint,
      checkpoint: () => this.checkpoint(pendingCheckpoint.sequenceNumber, pendingCheckpoint.subSequenceNumber),
    }
  }
}

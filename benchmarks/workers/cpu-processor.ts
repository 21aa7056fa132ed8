/**
 * A CPU-bound processor for the workers benchmark: about 50 µs of SHA-256 per record (rounds
 * calibrated by the benchmark and passed in BENCH_HASH_ROUNDS), one checkpoint per batch.
 */
import { createHash } from 'node:crypto'
import type { ShardRecordProcessor } from '../../packages/consumer/src/types.js'

export function burn(data: Uint8Array, rounds: number): Buffer {
  let digest = createHash('sha256').update(data).digest()
  for (let i = 1; i < rounds; i++) digest = createHash('sha256').update(digest).digest()
  return digest
}

export default function create(): ShardRecordProcessor {
  const rounds = Number(process.env.BENCH_HASH_ROUNDS ?? 50)
  let checksum = 0
  return {
    initialize: () => {},
    async processRecords({ records, checkpointer }) {
      for (const record of records) checksum ^= burn(record.data, rounds)[0] ?? 0
      await checkpointer.checkpoint()
    },
    leaseLost: () => {},
    shardEnded: ({ checkpointer }) => checkpointer.checkpoint(),
    shutdownRequested: ({ checkpointer }) => checkpointer.checkpoint(),
  }
}

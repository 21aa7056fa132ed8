import { describe, expect, it } from 'vitest'
import { findStalls } from './shard-watchdog.js'

const consumer = (stalledFor: number) => ({ stalledForMillis: () => stalledFor })

describe('findStalls', () => {
  it('reports an unfinished lease with no consumer, and a consumer that has not moved past the bound', () => {
    const stalls = findStalls(
      [
        { shardId: 'a', finished: false, consumer: undefined, starting: false },
        { shardId: 'b', finished: false, consumer: consumer(30_001), starting: false },
        { shardId: 'c', finished: false, consumer: consumer(30_000), starting: false },
      ],
      30_000,
      0,
    )
    expect(stalls).toEqual([
      { shardId: 'a', reason: 'no-consumer', stalledForMillis: 0 },
      { shardId: 'b', reason: 'no-progress', stalledForMillis: 30_001 },
    ])
  })

  it('leaves finished leases and consumers being started alone', () => {
    const stalls = findStalls(
      [
        { shardId: 'done', finished: true, consumer: undefined, starting: false },
        { shardId: 'starting', finished: false, consumer: undefined, starting: true },
      ],
      1,
      0,
    )
    expect(stalls).toEqual([])
  })
})

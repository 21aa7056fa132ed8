import type { Shard } from '@aws-sdk/client-kinesis'
import { describe, expect, it } from 'vitest'
import { parentsFirst } from './stream-reader.js'

describe('parentsFirst', () => {
  it('puts every shard after its parents (merge and split), keeping the listed order otherwise', () => {
    const shards: Pick<Shard, 'ShardId' | 'ParentShardId' | 'AdjacentParentShardId'>[] = [
      { ShardId: 'merged', ParentShardId: 'left', AdjacentParentShardId: 'right' },
      { ShardId: 'left', ParentShardId: 'root' },
      { ShardId: 'right', ParentShardId: 'root' },
      { ShardId: 'root' },
      { ShardId: 'other' },
      // A parent past retention is no longer listed.
      { ShardId: 'orphan', ParentShardId: 'trimmed' },
    ]
    expect(parentsFirst(shards).map((s) => s.ShardId)).toEqual(['root', 'left', 'right', 'merged', 'other', 'orphan'])
  })
})

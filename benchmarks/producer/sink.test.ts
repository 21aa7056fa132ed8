import { ListShardsCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis'
import { ShardMap, createKinesisClient, hashKeyOf } from '@kinesis-ts/shared'
import { expect, it } from 'vitest'
import { startSink } from './sink.js'

it('the loopback sink assigns each entry to the shard whose hash range holds its key, like Kinesis', async () => {
  const sink = await startSink({ shards: 4 })
  const client = createKinesisClient({
    region: 'us-east-1',
    endpoint: sink.endpoint,
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
  })
  try {
    const { Shards } = await client.send(new ListShardsCommand({ StreamName: 's' }))
    const map = new ShardMap(Shards ?? [])
    expect(map.size).toBe(4)
    const entries = Array.from({ length: 200 }, (_, i) => ({ PartitionKey: `k${i}`, Data: Buffer.from('x') }))
    entries.push({ PartitionKey: 'k', Data: Buffer.from('x'), ExplicitHashKey: '0' } as never)
    const { Records } = await client.send(new PutRecordsCommand({ StreamName: 's', Records: entries }))
    expect(Records).toHaveLength(201)
    for (let i = 0; i < 200; i++) expect(Records?.[i]?.ShardId).toBe(map.shardFor(hashKeyOf(`k${i}`)))
    expect(Records?.[200]?.ShardId).toBe(map.shardFor(0n))
    expect(new Set(Records?.map((r) => r.SequenceNumber)).size).toBe(201)
    expect(sink.records).toBe(201)
  } finally {
    client.destroy()
    await sink.close()
  }
})

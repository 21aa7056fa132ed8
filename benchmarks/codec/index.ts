/**
 * Codec micro-benchmark: the same user records (100-byte data, 5000 distinct keys) aggregated
 * and deaggregated by kinesis-ts and by aws-kinesis-agg, the official Node aggregation library.
 * Knobs: BENCH_CODEC_RECORDS (200000), BENCH_CODEC_KEYS (5000), BENCH_ROUNDS (5).
 */
import { randomBytes } from 'node:crypto'
import { AggregateBuilder, HashKeyCache, MAX_HASH_KEY, ShardMap, decodeAggregated } from '@kinesis-ts/shared'
import { type AggInput, aggregateAll, awsKinesisAgg } from '../lib/aws-kinesis-agg.js'
import { bestRate } from '../lib/measure.js'
import { envNumber, printComparison, printRatio } from '../lib/table.js'

type AggRecord = AggInput

const DEFAULT_AGGREGATION_MAX_SIZE = 51_200

/** A 4-shard stream's hash ranges, for shard-aware aggregation as the producer does it. */
function fourShardMap(): ShardMap {
  const width = (MAX_HASH_KEY + 1n) / 4n
  return new ShardMap(
    [0, 1, 2, 3].map((i) => ({
      ShardId: `shardId-${i}`,
      HashKeyRange: {
        StartingHashKey: (width * BigInt(i)).toString(),
        EndingHashKey: (i === 3 ? MAX_HASH_KEY : width * BigInt(i + 1) - 1n).toString(),
      },
    })),
  )
}

/** kinesis-ts: hash key per record (cached per key), route to the shard's builder, fill by exact size. */
function aggregateWithKinesisTs(records: readonly AggRecord[], map: ShardMap): Buffer[] {
  const cache = new HashKeyCache()
  const builders = new Map<string, AggregateBuilder>()
  const out: Buffer[] = []
  for (const record of records) {
    const shardId = map.shardFor(cache.get(record.partitionKey))!
    let builder = builders.get(shardId)
    if (builder === undefined) {
      builder = new AggregateBuilder()
      builders.set(shardId, builder)
    }
    if (!builder.tryAdd(record, DEFAULT_AGGREGATION_MAX_SIZE)) {
      out.push(builder.build())
      builder.reset()
      builder.add(record)
    }
  }
  for (const builder of builders.values()) if (builder.count > 0) out.push(builder.build())
  return out
}

export async function run(): Promise<void> {
  const count = envNumber('BENCH_CODEC_RECORDS', 200_000)
  const keys = envNumber('BENCH_CODEC_KEYS', 5_000)
  const rounds = envNumber('BENCH_ROUNDS', 5)
  const records: AggRecord[] = Array.from({ length: count }, (_, i) => ({
    partitionKey: `partition-key-${i % keys}`,
    data: randomBytes(100),
  }))
  const map = fourShardMap()
  console.log(`${count} user records, 100-byte data, ${keys} distinct keys; best of ${rounds} rounds`)

  const oursAgg = await bestRate(count, rounds, () => aggregateWithKinesisTs(records, map))
  const theirsAgg = await bestRate(count, rounds, () => aggregateAll(records))
  printComparison('Aggregation (+ hash keys for kinesis-ts)', 'records/s', [
    { name: 'aws-kinesis-agg aggregate()', value: theirsAgg },
    { name: 'kinesis-ts AggregateBuilder', value: oursAgg },
  ])

  // Both decoders read the same aggregates, made by aws-kinesis-agg.
  const aggregates = await aggregateAll(records)
  const asBase64 = aggregates.map((a) => ({ partitionKey: a.partitionKey, data: a.data.toString('base64') }))
  let decoded = 0
  const oursDecode = await bestRate(count, rounds, () => {
    decoded = 0
    for (const a of aggregates) decoded += decodeAggregated(a.data, a).length
  })
  if (decoded !== count) throw new Error(`kinesis-ts decoded ${decoded} of ${count} records`)
  const theirsDecode = await bestRate(count, rounds, () => {
    for (const a of asBase64) {
      awsKinesisAgg.deaggregateSync(a, true, (error) => {
        if (error) throw error
      })
    }
  })
  printComparison('Deaggregation (checksums on)', 'records/s', [
    { name: 'aws-kinesis-agg deaggregateSync()', value: theirsDecode },
    { name: 'kinesis-ts decodeAggregated()', value: oursDecode },
  ])
  console.log()
  printRatio('aggregation vs aws-kinesis-agg', oursAgg / theirsAgg, 3)
  printRatio('deaggregation vs aws-kinesis-agg', oursDecode / theirsDecode, 3)
}

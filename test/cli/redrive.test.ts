import { GetRecordsCommand, GetShardIteratorCommand, type KinesisClient } from '@aws-sdk/client-kinesis'
import { decodeAggregated, encodeAggregated, encodeHeaderTags, hashKeyOf } from '@kinesis-ts/shared'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { ConsumerEvents } from '../../packages/consumer/src/index.js'
import { KinesisProducer, deadLetterToStream } from '../../packages/producer/src/index.js'
import { Fleet, putAll, waitFor } from '../consumer/support/harness.js'
import { clientOptions, createStream, endpoints, kinesisClient, listAllShards } from '../support/aws.js'
import { assertBuilt, runCli } from './run-cli.js'

beforeAll(assertBuilt)

let cleanup: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const step of cleanup.reverse()) await step()
  cleanup = []
})

const backendEnv = () => ({ KINESIS_ENDPOINT: endpoints().kinesis, DYNAMODB_ENDPOINT: endpoints().dynamodb })

/** Every user record of the stream, with the plain SDK: each shard from TRIM_HORIZON until caught up. */
async function readAll(kinesis: KinesisClient, streamName: string) {
  const out: {
    shardId: string
    sequenceNumber: string
    partitionKey: string
    data: Buffer
    headers: Readonly<Record<string, string>>
    aggregated: boolean
  }[] = []
  for (const shard of await listAllShards(kinesis, streamName)) {
    const { ShardIterator } = await kinesis.send(
      new GetShardIteratorCommand({
        StreamName: streamName,
        ShardId: shard.ShardId,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    )
    let iterator = ShardIterator
    while (iterator !== undefined) {
      const page = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator }))
      for (const record of page.Records ?? []) {
        // The producer aggregates: split what it packed (a lone record goes out as it is).
        for (const user of decodeAggregated(record.Data!, { partitionKey: record.PartitionKey! })) {
          out.push({
            shardId: shard.ShardId!,
            sequenceNumber: record.SequenceNumber!,
            partitionKey: user.partitionKey,
            data: Buffer.from(user.data),
            headers: user.headers,
            aggregated: user.aggregated,
          })
        }
      }
      if ((page.Records ?? []).length === 0 && page.MillisBehindLatest === 0) break
      iterator = page.NextShardIterator
    }
  }
  return out
}

describe('dead letters to a stream, and back', () => {
  it('deadLetterToStream writes the documented envelope to a second stream; redrive --dry-run lists it, redrive puts the records back', async () => {
    const kinesis = kinesisClient()
    cleanup.push(() => kinesis.destroy())
    const source = await createStream(kinesis, 2, 'orders')
    const dlq = await createStream(kinesis, 1, 'orders-dlq')
    const poison = [
      { partitionKey: 'poison-0', data: Buffer.from('poison 0') },
      // Not UTF-8: the envelope carries bytes, not text.
      { partitionKey: 'poison-1', data: Buffer.from([0xff, 0xfe, 0x00, 0x01]) },
      { partitionKey: 'poison-2', data: Buffer.from('poison 2') },
    ]
    const records = Array.from({ length: 100 }, (_, i) => ({
      partitionKey: `k-${i % 10}`,
      data: Buffer.from(`k:${i}`),
    }))
    // poison-2 as a KPL producer writes a record with headers: an aggregate of one whose tags are them.
    const headers = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', tenant: 'acme' }
    const [plain0, plain1, tagged] = poison
    const taggedRecord = {
      partitionKey: 'a',
      explicitHashKey: hashKeyOf(tagged!.partitionKey).toString(),
      data: encodeAggregated([{ ...tagged!, tags: encodeHeaderTags(headers) }]),
    }
    await putAll(kinesis, source, [...records.slice(0, 40), plain0!, plain1!, taggedRecord, ...records.slice(40)])

    const producer = new KinesisProducer({ streamName: dlq, ...clientOptions(endpoints().kinesis) })
    cleanup.push(() => producer.close())
    const fleet = new Fleet(
      source,
      `${source}-app`,
      {
        processingRetryBackoffBaseMillis: 5,
        processingRetryBackoffMaxMillis: 20,
        processingErrorPolicy: {
          maxAttempts: 2,
          deadLetter: deadLetterToStream({ streamName: dlq, producer, sourceStreamName: source }),
        },
      },
      {
        onRecords: ({ records: batch }) => {
          if (batch.some((r) => r.partitionKey.startsWith('poison-'))) throw new Error('poison record')
        },
      },
    )
    const worker = await fleet.start('worker-1')
    const deadLettered: ConsumerEvents['consumer.record_dead_lettered'][] = []
    worker.on('consumer.record_dead_lettered', (event) => deadLettered.push(event))
    await waitFor('three dead letters', () => deadLettered.length === 3)
    await waitFor('every other record', () => fleet.journal.distinctData().size === 100)
    // Stop reading the source: the redriven records would fail there again.
    await fleet.close()

    // The dead-letter stream, read with the plain SDK: one envelope per poison record, as documented.
    const letters = await readAll(kinesis, dlq)
    expect(letters).toHaveLength(3)
    const envelopes = letters.map((letter) => ({ letter, envelope: JSON.parse(letter.data.toString('utf8')) }))
    for (const { letter, envelope } of envelopes) {
      const original = poison.find((p) => p.partitionKey === envelope.partitionKey)!
      const event = deadLettered.find((e) => e.partitionKey === envelope.partitionKey)!
      // Under the original partition key, so one key's dead letters stay in order on one shard.
      expect(letter.partitionKey).toBe(original.partitionKey)
      expect(envelope).toEqual({
        kinesisTsDeadLetter: 1,
        partitionKey: original.partitionKey,
        data: original.data.toString('base64'),
        error: { name: 'Error', message: 'poison record' },
        streamName: source,
        shardId: event.shardId,
        sequenceNumber: event.sequenceNumber,
        subSequenceNumber: 0,
        attempts: event.attempts,
        approximateArrivalTimestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        deadLetteredAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        // The headers (a trace context among them) travel in the envelope.
        ...(original === tagged ? { headers } : {}),
      })
    }
    // A record of another writer on the dead-letter stream is left out, and said so.
    await putAll(kinesis, dlq, [{ partitionKey: 'other', data: Buffer.from('not an envelope') }])

    const dry = await runCli(['redrive', '--from', dlq, '--to', source, '--dry-run'], { env: backendEnv() })
    expect(dry.stderr).toContain(
      `Dry run: 3 dead-letter records in ${dlq} would go to ${source}; left out 1 record that is not a dead-letter envelope`,
    )
    expect(dry.code).toBe(0)
    const listed = dry.stdout.trim().split('\n').sort()
    expect(listed).toEqual(
      deadLettered
        .map(
          (e) =>
            `${source}/${e.shardId}\t${e.sequenceNumber}/0\t${e.partitionKey}\tattempts ${e.attempts}\tError: poison record`,
        )
        .sort(),
    )
    expect(await readAll(kinesis, source)).toHaveLength(103)

    const redrive = await runCli(['redrive', '--from', dlq, '--to', source], { env: backendEnv() })
    expect(redrive.stderr).toMatch(
      new RegExp(`Redrove 3 of 3 records from ${dlq} to ${source} in [\\d.]+ s; left out 1`),
    )
    expect(redrive.code).toBe(0)
    // Back in the source: each poison record's key and bytes once more, after its first copy; nothing else added.
    const after = await readAll(kinesis, source)
    expect(after).toHaveLength(106)
    for (const original of poison) {
      const copies = after.filter((r) => r.partitionKey === original.partitionKey)
      expect(copies.map((r) => r.data.toString('hex'))).toEqual([
        original.data.toString('hex'),
        original.data.toString('hex'),
      ])
      expect(BigInt(copies[1]!.sequenceNumber)).toBeGreaterThan(BigInt(copies[0]!.sequenceNumber))
      // One Kinesis record each: plain, or an aggregate of one that carries the headers back.
      expect(copies[1]!.headers).toEqual(original === tagged ? headers : {})
      expect(copies[1]!.aggregated).toBe(original === tagged)
    }
  })
})

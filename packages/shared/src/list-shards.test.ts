import type { KinesisClient, ListShardsCommandInput, ListShardsCommandOutput, Shard } from '@aws-sdk/client-kinesis'
import { describe, expect, it } from 'vitest'
import { AbortedError, AwsCallError } from './errors.js'
import { listAllShards } from './list-shards.js'

/** A client that answers ListShards from `pages` in turn and records each input and signal. */
function pagedClient(pages: Array<Partial<ListShardsCommandOutput> | Error>) {
  const inputs: ListShardsCommandInput[] = []
  const signals: Array<AbortSignal | undefined> = []
  const send = async (command: { input: ListShardsCommandInput }, options?: { abortSignal?: AbortSignal }) => {
    inputs.push(command.input)
    signals.push(options?.abortSignal)
    const page = pages[inputs.length - 1]
    if (page === undefined) throw new Error('no more pages')
    if (page instanceof Error) throw page
    return page
  }
  return { client: { send } as unknown as KinesisClient, inputs, signals }
}

const shard = (id: string): Shard => ({
  ShardId: id,
  HashKeyRange: { StartingHashKey: '0', EndingHashKey: '1' },
  SequenceNumberRange: { StartingSequenceNumber: '1' },
})

describe('listAllShards', () => {
  it('follows NextToken to the last page, naming stream and filter on the first call only', async () => {
    const { client, inputs } = pagedClient([
      { Shards: [shard('a'), shard('b')], NextToken: 't1' },
      { Shards: [shard('c')], NextToken: 't2' },
      { Shards: [shard('d')] },
    ])
    const shards = await listAllShards(client, { streamName: 's', filter: { Type: 'AT_LATEST' } })
    expect(shards.map((s) => s.ShardId)).toEqual(['a', 'b', 'c', 'd'])
    expect(inputs).toEqual([
      { StreamName: 's', ShardFilter: { Type: 'AT_LATEST' } },
      { NextToken: 't1' },
      { NextToken: 't2' },
    ])
  })

  it('names the stream by ARN when given one, and sends no ShardFilter when none is asked for', async () => {
    const { client, inputs } = pagedClient([{ Shards: [shard('a')] }])
    const streamARN = 'arn:aws:kinesis:us-east-1:123456789012:stream/s'
    await listAllShards(client, { streamName: 's', streamARN })
    expect(inputs).toEqual([{ StreamARN: streamARN }])
  })

  it('passes the signal to every call and stops with AbortedError once it aborts between pages', async () => {
    const controller = new AbortController()
    const { client, inputs, signals } = pagedClient([{ Shards: [shard('a')], NextToken: 't1' }])
    const abortingClient = {
      send: async (...args: Parameters<typeof client.send>) => {
        const page = await client.send(...args)
        controller.abort()
        return page
      },
    } as unknown as KinesisClient
    await expect(listAllShards(abortingClient, { streamName: 's', signal: controller.signal })).rejects.toBeInstanceOf(
      AbortedError,
    )
    expect(inputs).toHaveLength(1)
    expect(signals).toEqual([controller.signal])
  })

  it('wraps a failed page as an AwsCallError keeping the verdict', async () => {
    const throttled = Object.assign(new Error('slow down'), {
      name: 'LimitExceededException',
      $metadata: { httpStatusCode: 400 },
    })
    const { client } = pagedClient([{ Shards: [shard('a')], NextToken: 't1' }, throttled])
    const failure = listAllShards(client, { streamName: 's' })
    await expect(failure).rejects.toBeInstanceOf(AwsCallError)
    await expect(failure).rejects.toMatchObject({
      awsCode: 'LimitExceededException',
      retriable: true,
      throttled: true,
      cause: throttled,
    })
  })

  it('gives up on a page that does not answer within timeoutMs, as a retriable timeout', async () => {
    const hung = { send: () => new Promise<never>(() => {}) } as unknown as KinesisClient
    const failure = listAllShards(hung, { streamName: 's', timeoutMs: 20 })
    await expect(failure).rejects.toBeInstanceOf(AwsCallError)
    await expect(failure).rejects.toMatchObject({ awsCode: 'ERR_TIMEOUT', retriable: true })
  })
})

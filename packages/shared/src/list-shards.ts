import { type KinesisClient, ListShardsCommand, type Shard, type ShardFilter } from '@aws-sdk/client-kinesis'
import { withDeadline } from './deadline.js'
import { AbortedError } from './errors.js'
import { toAwsCallError } from './retry/classify.js'

/** Which stream to list (by name or ARN), which shards, and what cancels the listing. */
export interface ListShardsRequest {
  readonly streamName?: string | undefined
  /** Wins over streamName when both are given. */
  readonly streamARN?: string | undefined
  /** Sent with the first page only; the service keeps it in the NextToken. */
  readonly filter?: ShardFilter | undefined
  readonly signal?: AbortSignal | undefined
  /** Bound on each page's call (0 or absent: none): a hung ListShards must not freeze its loop. */
  readonly timeoutMs?: number | undefined
}

/**
 * Every page of ListShards. The SDK has no paginator for it (a NextToken call must carry neither the
 * stream nor the filter, which its generic paginator cannot express), so the rule lives here once:
 * the first call names the stream and the filter, each later call only the NextToken.
 * @throws AwsCallError carrying the service's verdict; AbortedError once `signal` aborts.
 */
export async function listAllShards(kinesis: KinesisClient, request: ListShardsRequest): Promise<Shard[]> {
  const { signal } = request
  const first = {
    ...(request.streamARN !== undefined ? { StreamARN: request.streamARN } : { StreamName: request.streamName }),
    ...(request.filter !== undefined ? { ShardFilter: request.filter } : {}),
  }
  const shards: Shard[] = []
  let nextToken: string | undefined
  do {
    if (signal?.aborted) throw new AbortedError(signal.reason)
    try {
      const command = new ListShardsCommand(nextToken === undefined ? first : { NextToken: nextToken })
      const page = await withDeadline('ListShards', request.timeoutMs ?? 0, signal, (abortSignal) =>
        kinesis.send(command, { abortSignal }),
      )
      shards.push(...(page.Shards ?? []))
      nextToken = page.NextToken
    } catch (error) {
      if (signal?.aborted) throw new AbortedError(signal.reason)
      throw toAwsCallError('ListShards', error)
    }
  } while (nextToken !== undefined)
  return shards
}

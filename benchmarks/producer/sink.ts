import { type IncomingMessage, type Server, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { MAX_HASH_KEY, ShardMap, hashKeyOf } from '@kinesis-ts/shared'

/** Hash ranges of `shards` equal shards, as ListShards describes them. */
export function equalShards(shards: number) {
  const width = (MAX_HASH_KEY + 1n) / BigInt(shards)
  return Array.from({ length: shards }, (_, i) => ({
    ShardId: `shardId-${String(i).padStart(12, '0')}`,
    HashKeyRange: {
      StartingHashKey: (width * BigInt(i)).toString(),
      EndingHashKey: (i === shards - 1 ? MAX_HASH_KEY : width * BigInt(i + 1) - 1n).toString(),
    },
    SequenceNumberRange: { StartingSequenceNumber: '0', EndingSequenceNumber: undefined },
  }))
}

export interface Sink {
  readonly endpoint: string
  /** Kinesis records accepted so far. */
  readonly records: number
  close(): Promise<void>
}

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

/**
 * A loopback server that answers PutRecords and ListShards like Kinesis (shard ids from the hash
 * ranges, increasing sequence numbers), so a benchmark measures the client's own ceiling.
 * `delayMs` makes it a slow endpoint (backpressure tests).
 */
export async function startSink(options: { shards?: number; delayMs?: number } = {}): Promise<Sink> {
  const shards = equalShards(options.shards ?? 4)
  const map = new ShardMap(shards)
  let sequence = 0n
  let records = 0
  const server: Server = createServer(async (req, res) => {
    const text = await body(req)
    const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1]
    let answer: unknown
    if (operation === 'ListShards') {
      answer = { Shards: shards }
    } else if (operation === 'PutRecords') {
      const input = JSON.parse(text) as { Records: { PartitionKey: string; ExplicitHashKey?: string }[] }
      records += input.Records.length
      answer = {
        FailedRecordCount: 0,
        Records: input.Records.map((entry) => ({
          ShardId: map.shardFor(
            entry.ExplicitHashKey === undefined ? hashKeyOf(entry.PartitionKey) : BigInt(entry.ExplicitHashKey),
          ),
          SequenceNumber: `4${(++sequence).toString().padStart(55, '0')}`,
        })),
      }
    } else {
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' })
      res.end(JSON.stringify({ __type: 'UnknownOperationException', message: String(operation) }))
      return
    }
    const send = () => {
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' })
      res.end(JSON.stringify(answer))
    }
    if (options.delayMs) setTimeout(send, options.delayMs)
    else send()
  })
  server.keepAliveTimeout = 60_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get records() {
      return records
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

import { Readable } from 'node:stream'
import { KinesisClient, type KinesisClientConfig } from '@aws-sdk/client-kinesis'

/** A request as it reached the wire: after serialization, content length and signing. */
export interface RecordedRequest {
  readonly method: string
  readonly hostname: string
  readonly path: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: Buffer
}

/** What the fake endpoint answers; the body is served as a Node stream, as node-http-handler does. */
export interface FakeResponse {
  readonly statusCode: number
  readonly body: string
  readonly headers?: Readonly<Record<string, string>>
}

/**
 * A real KinesisClient (credentials, signing, endpoint, retries) whose request handler records each
 * request and answers from `respond` instead of the network.
 */
export function recordingKinesis(
  respond: (request: RecordedRequest, attempt: number) => FakeResponse,
  config: Partial<KinesisClientConfig> = {},
): { kinesis: KinesisClient; requests: RecordedRequest[] } {
  const requests: RecordedRequest[] = []
  const requestHandler = {
    handle: async (request: {
      method: string
      hostname: string
      path: string
      headers: Record<string, string>
      body?: unknown
    }) => {
      const recorded: RecordedRequest = {
        method: request.method,
        hostname: request.hostname,
        path: request.path,
        headers: { ...request.headers },
        body: toBuffer(request.body),
      }
      requests.push(recorded)
      const answer = respond(recorded, requests.length)
      return {
        response: {
          statusCode: answer.statusCode,
          headers: { 'content-type': 'application/x-amz-json-1.1', ...answer.headers },
          body: Readable.from([Buffer.from(answer.body)]),
        },
      }
    },
  }
  const kinesis = new KinesisClient({
    region: 'us-east-1',
    endpoint: 'http://kinesis.test:4567',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    maxAttempts: 1,
    requestHandler,
    ...config,
  })
  return { kinesis, requests }
}

function toBuffer(body: unknown): Buffer {
  if (body === undefined) return Buffer.alloc(0)
  if (typeof body === 'string') return Buffer.from(body)
  // A copy of the bytes as they are: the SDK's own body type warns when read as a string.
  if (body instanceof Uint8Array) return Buffer.from(Uint8Array.prototype.slice.call(body))
  throw new TypeError(`unexpected request body ${Object.prototype.toString.call(body)}`)
}

/** A successful PutRecords response for `count` records, all written to `shardId`. */
export function acceptedResponse(count: number, shardId = 'shardId-000000000000'): FakeResponse {
  const Records = Array.from({ length: count }, (_, i) => ({
    SequenceNumber: `4960000000000000000000000000000000000000000000000000000${i}`,
    ShardId: shardId,
  }))
  return { statusCode: 200, body: JSON.stringify({ FailedRecordCount: 0, Records }) }
}

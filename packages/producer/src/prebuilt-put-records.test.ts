import { createHash } from 'node:crypto'
import { PutRecordsCommand, type PutRecordsCommandInput } from '@aws-sdk/client-kinesis'
import { describe, expect, it } from 'vitest'
import { usePrebuiltPutRecords } from './prebuilt-put-records.js'
import { encodePutRecordsBody } from './put-records-body.js'
import { type FakeResponse, acceptedResponse, recordingKinesis } from './test-support/recording-kinesis.js'

const records = [
  { data: new Uint8Array([1, 2, 3]), partitionKey: 'a' },
  { data: new Uint8Array([4]), partitionKey: 'clé', explicitHashKey: '42' },
]
const input: PutRecordsCommandInput = {
  StreamName: 'orders',
  Records: records.map((r) => ({ Data: r.data, PartitionKey: r.partitionKey, ExplicitHashKey: r.explicitHashKey })),
}
const body = encodePutRecordsBody({ streamName: 'orders' }, records)

function prebuiltCommand(): PutRecordsCommand {
  const command = new PutRecordsCommand(input)
  usePrebuiltPutRecords(command, body)
  return command
}

/** The same call made twice on fresh clients: once as the SDK makes it, once with the prebuilt body. */
async function sdkAndPrebuilt(respond: () => FakeResponse) {
  const sdk = recordingKinesis(respond)
  const prebuilt = recordingKinesis(respond)
  const sdkOutput = await sdk.kinesis.send(new PutRecordsCommand(input))
  const prebuiltOutput = await prebuilt.kinesis.send(prebuiltCommand())
  return { sdk: { ...sdk, output: sdkOutput }, prebuilt: { ...prebuilt, output: prebuiltOutput } }
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

describe('usePrebuiltPutRecords', () => {
  it('sends exactly the prebuilt body, measured and signed as the SDK measures and signs its own', async () => {
    const { sdk, prebuilt } = await sdkAndPrebuilt(() => acceptedResponse(2))
    const [ours] = prebuilt.requests
    const [theirs] = sdk.requests
    expect(prebuilt.requests).toHaveLength(1)
    expect(ours!.body).toEqual(body)
    expect(ours!.headers['content-length']).toBe(String(body.length))
    // The signer hashed the body that went out, not the record-less one the serializer was given.
    expect(ours!.headers['x-amz-content-sha256']).toBe(sha256(body))
    expect(ours!.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\//)
    expect(JSON.parse(ours!.body.toString())).toEqual(JSON.parse(theirs!.body.toString()))
    for (const header of ['content-type', 'x-amz-target', 'host'])
      expect(ours!.headers[header]).toBe(theirs!.headers[header])
    expect([ours!.method, ours!.hostname, ours!.path]).toEqual([theirs!.method, theirs!.hostname, theirs!.path])
  })

  it('answers the output the SDK answers', async () => {
    const mixed = (): FakeResponse => ({
      statusCode: 200,
      body: JSON.stringify({
        FailedRecordCount: 1,
        Records: [
          { SequenceNumber: '4960', ShardId: 'shardId-000000000001', ErrorCode: null, ErrorMessage: null },
          { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded', Extra: 'x' },
        ],
        EncryptionType: 'NONE',
      }),
    })
    const { sdk, prebuilt } = await sdkAndPrebuilt(mixed)
    const { $metadata: _sdkMetadata, ...sdkMembers } = sdk.output
    const { $metadata, ...prebuiltMembers } = prebuilt.output
    expect(prebuiltMembers).toStrictEqual(sdkMembers)
    expect(prebuiltMembers.Records).toHaveLength(2)
    expect($metadata.httpStatusCode).toBe(200)
  })

  it('leaves error responses to the SDK: the same typed exception', async () => {
    const notFound = (): FakeResponse => ({
      statusCode: 400,
      body: JSON.stringify({ __type: 'ResourceNotFoundException', message: 'Stream orders not found' }),
    })
    const sdk = recordingKinesis(notFound)
    const prebuilt = recordingKinesis(notFound)
    const theirs = await sdk.kinesis.send(new PutRecordsCommand(input)).catch((e: unknown) => e)
    const ours = await prebuilt.kinesis.send(prebuiltCommand()).catch((e: unknown) => e)
    expect(ours).toBeInstanceOf((theirs as object).constructor)
    expect(ours).toMatchObject({ name: 'ResourceNotFoundException', message: 'Stream orders not found' })
    expect((ours as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode).toBe(400)
  })

  it('survives the client retrying: the same body again, the output of the attempt that succeeded', async () => {
    const { kinesis, requests } = recordingKinesis(
      (_request, attempt) =>
        attempt === 1
          ? { statusCode: 500, body: JSON.stringify({ __type: 'InternalFailure', message: 'boom' }) }
          : acceptedResponse(2, 'shardId-000000000007'),
      { maxAttempts: 2, retryStrategy: undefined },
    )
    const output = await kinesis.send(prebuiltCommand())
    expect(requests).toHaveLength(2)
    expect(requests[1]!.body).toEqual(body)
    expect(requests[1]!.headers['x-amz-content-sha256']).toBe(sha256(body))
    expect(output.Records?.map((r) => r.ShardId)).toEqual(['shardId-000000000007', 'shardId-000000000007'])
    expect(output.$metadata.attempts).toBe(2)
  })

  it("runs the user's own middleware, which sees the full input, the prebuilt body and the full output", async () => {
    const { kinesis } = recordingKinesis(() => acceptedResponse(2))
    const seen: string[] = []
    kinesis.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as PutRecordsCommandInput
        seen.push(`initialize: ${input.Records?.length} records, data ${input.Records?.[0]?.Data?.length} bytes`)
        const result = await next(args)
        const output = result.output as { Records?: unknown[]; FailedRecordCount?: number }
        seen.push(`initialize: ${output.Records?.length} results, ${output.FailedRecordCount} failed`)
        return result
      },
      { step: 'initialize', name: 'userInitialize' },
    )
    kinesis.middlewareStack.add(
      (next) => (args) => {
        const request = args.request as { body: Uint8Array }
        seen.push(`build: ${request.body === body ? 'prebuilt body' : 'another body'}`)
        return next(args)
      },
      { step: 'build', name: 'userBuild' },
    )
    const beforeSigning = (next: (args: { request: unknown }) => unknown) => (args: { request: unknown }) => {
      const request = args.request as { body: Uint8Array }
      seen.push(`before signing: ${request.body === body ? 'prebuilt body' : 'another body'}`)
      return next(args)
    }
    type AnyMiddleware = Parameters<typeof kinesis.middlewareStack.addRelativeTo>[0]
    kinesis.middlewareStack.addRelativeTo(beforeSigning as unknown as AnyMiddleware, {
      relation: 'before',
      toMiddleware: 'httpSigningMiddleware',
      name: 'userBeforeSigning',
    })
    await kinesis.send(prebuiltCommand())
    expect(seen).toEqual([
      'initialize: 2 records, data 3 bytes',
      'build: prebuilt body',
      'before signing: prebuilt body',
      'initialize: 2 results, 0 failed',
    ])
  })

  /** What the logger middleware will use to filter this call's input, read from the call's context. */
  async function inputFilterOf(config: Parameters<typeof recordingKinesis>[1]) {
    const { kinesis } = recordingKinesis(() => acceptedResponse(2), config)
    let filter: ((input: unknown) => unknown) | undefined
    kinesis.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args)
        filter = context.inputFilterSensitiveLog
        return result
      },
      { step: 'initialize', priority: 'high', name: 'userReadsFilter' },
    )
    await kinesis.send(prebuiltCommand())
    return filter!
  }

  it('spares the logger middleware its filter copy when the client logs nothing', async () => {
    expect((await inputFilterOf({}))(input)).toBe(input)
  })

  it("keeps the SDK's filter when the client has a logger, and the logger sees every record", async () => {
    const logged: unknown[] = []
    const logger = { trace() {}, debug() {}, info: (entry: unknown) => logged.push(entry), warn() {}, error() {} }
    const filter = await inputFilterOf({ logger })
    expect(filter(input)).not.toBe(input)
    expect(filter(input)).toEqual(input)
    expect(logged).toHaveLength(1)
    expect(logged[0]).toMatchObject({
      commandName: 'PutRecordsCommand',
      input: { Records: [{ PartitionKey: 'a' }, { PartitionKey: 'clé' }] },
    })
    expect((logged[0] as { output: { Records: unknown[] } }).output.Records).toHaveLength(2)
  })
})

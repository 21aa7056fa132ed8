import type { KinesisClient } from '@aws-sdk/client-kinesis'
import { AbortedError, silentLogger } from '@kinesis-ts/shared'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { type RegistrationRequest, StreamConsumerError, ensureStreamConsumer } from './register-consumer.js'

const STREAM_ARN = 'arn:aws:kinesis:us-east-1:123456789012:stream/s'
const CONSUMER_ARN = `${STREAM_ARN}/consumer/app:1`
const awsError = (name: string) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: 400 } })

type Reply = Record<string, unknown> | Error
/** A control plane answering each command from its own script; the last reply repeats. */
function controlPlane(scripts: Record<string, Reply[]>) {
  const calls: string[] = []
  const send = async (command: { constructor: { name: string } }) => {
    const name = command.constructor.name.replace(/Command$/, '')
    calls.push(name)
    const script = scripts[name] ?? []
    const reply = script.length > 1 ? script.shift() : script[0]
    if (reply === undefined) throw new Error(`unscripted ${name}`)
    if (reply instanceof Error) throw reply
    return reply
  }
  return { kinesis: { send } as unknown as KinesisClient, calls }
}

const summary = { StreamDescriptionSummary: { StreamARN: STREAM_ARN } }
const consumer = (status: string) => ({ Consumer: { ConsumerARN: CONSUMER_ARN, ConsumerStatus: status } })
const description = (status: string) => ({
  ConsumerDescription: { ConsumerARN: CONSUMER_ARN, ConsumerStatus: status },
})

function request(kinesis: KinesisClient, overrides: Partial<RegistrationRequest> = {}): RegistrationRequest {
  return {
    kinesis,
    stream: { streamName: 's' },
    consumerName: 'app',
    consumerARN: undefined,
    timeoutMs: 10_000,
    backoffBaseMs: 100,
    backoffMaxMs: 100,
    logger: silentLogger,
    ...overrides,
  }
}

afterEach(() => {
  vi.useRealTimers()
})

describe('ensureStreamConsumer', () => {
  it('retries a throttled control plane, registers, and polls until the consumer is ACTIVE', async () => {
    vi.useFakeTimers()
    const { kinesis, calls } = controlPlane({
      DescribeStreamSummary: [awsError('LimitExceededException'), awsError('LimitExceededException'), summary],
      RegisterStreamConsumer: [consumer('CREATING'), awsError('ResourceInUseException')],
      DescribeStreamConsumer: [description('CREATING'), description('ACTIVE')],
    })
    const arn = ensureStreamConsumer(request(kinesis), new AbortController().signal)
    await vi.advanceTimersByTimeAsync(2_000)
    await expect(arn).resolves.toBe(CONSUMER_ARN)
    expect(calls).toEqual([
      'DescribeStreamSummary',
      'DescribeStreamSummary',
      'DescribeStreamSummary',
      'RegisterStreamConsumer',
      // Registered already: found by name, still CREATING, then ACTIVE.
      'RegisterStreamConsumer',
      'DescribeStreamConsumer',
      'RegisterStreamConsumer',
      'DescribeStreamConsumer',
    ])
  })

  it('fails at once on a terminal error, naming the code and keeping the cause', async () => {
    const denied = awsError('AccessDeniedException')
    const { kinesis, calls } = controlPlane({ DescribeStreamSummary: [denied] })
    const failure = ensureStreamConsumer(request(kinesis), new AbortController().signal)
    await expect(failure).rejects.toBeInstanceOf(StreamConsumerError)
    await expect(failure).rejects.toMatchObject({
      message: 'Stream consumer app is not usable: AccessDeniedException',
      cause: expect.objectContaining({ awsCode: 'AccessDeniedException', cause: denied }),
    })
    expect(calls).toEqual(['DescribeStreamSummary'])
  })

  it('gives up once timeoutMs passes without ACTIVE', async () => {
    vi.useFakeTimers()
    const { kinesis } = controlPlane({ DescribeStreamConsumer: [description('CREATING')] })
    const failure = ensureStreamConsumer(
      request(kinesis, { consumerARN: CONSUMER_ARN, timeoutMs: 1_000 }),
      new AbortController().signal,
    ).catch((error: unknown) => error)
    await vi.advanceTimersByTimeAsync(999)
    await vi.advanceTimersByTimeAsync(500)
    const error = await failure
    expect(error).toBeInstanceOf(StreamConsumerError)
    expect((error as Error).message).toBe('Stream consumer app not ACTIVE after 1000 ms')
  })

  it('gives up on a fault that outlasts timeoutMs, keeping it as the cause', async () => {
    vi.useFakeTimers()
    const throttled = awsError('LimitExceededException')
    const { kinesis } = controlPlane({ DescribeStreamConsumer: [throttled] })
    const failure = ensureStreamConsumer(
      request(kinesis, { consumerARN: CONSUMER_ARN, timeoutMs: 1_000 }),
      new AbortController().signal,
    ).catch((error: unknown) => error)
    await vi.advanceTimersByTimeAsync(1_200)
    expect(await failure).toMatchObject({ message: 'Stream consumer app not ACTIVE after 1000 ms', cause: throttled })
  })

  it('an abort while waiting comes out as AbortedError and leaves no timer', async () => {
    vi.useFakeTimers()
    const { kinesis } = controlPlane({ DescribeStreamConsumer: [description('CREATING')] })
    const controller = new AbortController()
    const failure = ensureStreamConsumer(request(kinesis, { consumerARN: CONSUMER_ARN }), controller.signal).catch(
      (error: unknown) => error,
    )
    await vi.advanceTimersByTimeAsync(10)
    controller.abort()
    expect(await failure).toBeInstanceOf(AbortedError)
    expect(vi.getTimerCount()).toBe(0)
  })
})

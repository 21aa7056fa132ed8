import {
  DescribeStreamConsumerCommand,
  DescribeStreamSummaryCommand,
  type KinesisClient,
  RegisterStreamConsumerCommand,
} from '@aws-sdk/client-kinesis'
import { KinesisTsError, type Logger, classifyError, retry, sleep, toAwsCallError } from '@kinesis-ts/shared'
import { type StreamRef, streamParameter } from '../stream-ref.js'

export interface RegistrationRequest {
  readonly kinesis: KinesisClient
  readonly stream: StreamRef
  readonly consumerName: string
  readonly consumerARN: string | undefined
  readonly timeoutMs: number
  readonly backoffBaseMs: number
  readonly backoffMaxMs: number
  readonly logger: Logger
}

/** The stream consumer did not become usable (deleted, wrong ARN, or ACTIVE never reached in time). */
export class StreamConsumerError extends KinesisTsError {
  static readonly codes = new Set(['ERR_STREAM_CONSUMER'])
  constructor(message: string, cause?: unknown) {
    super('ERR_STREAM_CONSUMER', message, { cause })
    this.name = 'StreamConsumerError'
  }
}

const POLL_MS = 250

/**
 * Registers the stream consumer (or looks up the given ARN) and waits until it is ACTIVE.
 * Several workers start at once: the loser of the RegisterStreamConsumer race gets
 * ResourceInUseException and then finds the winner's consumer by name.
 * LimitExceededException (the control plane allows few calls per second) is retried with backoff.
 * An abort comes out as what the abort threw, not as a StreamConsumerError.
 */
export async function ensureStreamConsumer(request: RegistrationRequest, signal: AbortSignal): Promise<string> {
  const deadline = Date.now() + request.timeoutMs
  let streamARN: string | undefined
  /** The ARN once ACTIVE, undefined while the consumer is still being created. */
  const activeArn = async (): Promise<string | undefined> => {
    if (request.consumerARN !== undefined) {
      return (await isActive(request, { ConsumerARN: request.consumerARN }, signal)) ? request.consumerARN : undefined
    }
    streamARN ??= await streamArnOf(request, signal)
    return registerOrFind(request, streamARN, signal)
  }
  const notActiveInTime = (cause?: unknown) =>
    new StreamConsumerError(`Stream consumer ${request.consumerName} not ACTIVE after ${request.timeoutMs} ms`, cause)
  for (;;) {
    const arn = await retry(activeArn, {
      signal,
      baseMs: request.backoffBaseMs,
      maxMs: request.backoffMaxMs,
      isRetriable: (error) => !(error instanceof StreamConsumerError) && Date.now() <= deadline && isTransient(error),
      onRetry: (error, { attempt }) =>
        request.logger.warn({ code: classifyError(error).code, attempt }, 'stream consumer registration retried'),
    }).catch((error: unknown) => {
      if (signal.aborted || error instanceof StreamConsumerError) throw error
      if (Date.now() > deadline) throw notActiveInTime(error)
      throw new StreamConsumerError(
        `Stream consumer ${request.consumerName} is not usable: ${classifyError(error).code}`,
        error,
      )
    })
    if (arn !== undefined) return arn
    await sleep(POLL_MS, signal)
    if (Date.now() > deadline) throw notActiveInTime()
  }
}

/** Retriable, or ResourceInUse: another worker's registration or deletion of the consumer settles. */
function isTransient(error: unknown): boolean {
  const { code, retriable } = classifyError(error)
  return retriable || code === 'ResourceInUseException'
}

/** The stream's ARN as the service spells it (also when the user gave one: registration must use it exactly). */
async function streamArnOf(request: RegistrationRequest, signal: AbortSignal): Promise<string> {
  const summary = await request.kinesis
    .send(new DescribeStreamSummaryCommand(streamParameter(request.stream)), { abortSignal: signal })
    .catch((error: unknown) => Promise.reject(toAwsCallError('DescribeStreamSummary', error)))
  const arn = summary.StreamDescriptionSummary?.StreamARN
  if (arn === undefined) throw new StreamConsumerError(`Stream ${request.stream.streamName} has no ARN`)
  return arn
}

/** The ARN once the consumer is ACTIVE, undefined while it is still being created. */
async function registerOrFind(
  request: RegistrationRequest,
  streamARN: string,
  signal: AbortSignal,
): Promise<string | undefined> {
  const key = { StreamARN: streamARN, ConsumerName: request.consumerName }
  try {
    const registered = await request.kinesis.send(new RegisterStreamConsumerCommand(key), { abortSignal: signal })
    request.logger.info({ consumerName: request.consumerName }, 'stream consumer registered')
    const arn = registered.Consumer?.ConsumerARN
    if (registered.Consumer?.ConsumerStatus === 'ACTIVE' && arn !== undefined) return arn
    return undefined
  } catch (error) {
    if (classifyError(error).code !== 'ResourceInUseException') throw error
  }
  // Already registered (by us earlier, or by another worker): wait for it by name.
  const found = await describe(request, key, signal)
  return found.status === 'ACTIVE' ? found.arn : undefined
}

async function isActive(
  request: RegistrationRequest,
  key: { ConsumerARN: string },
  signal: AbortSignal,
): Promise<boolean> {
  return (await describe(request, key, signal)).status === 'ACTIVE'
}

async function describe(
  request: RegistrationRequest,
  key: { ConsumerARN: string } | { StreamARN: string; ConsumerName: string },
  signal: AbortSignal,
): Promise<{ arn: string | undefined; status: string | undefined }> {
  const out = await request.kinesis.send(new DescribeStreamConsumerCommand(key), { abortSignal: signal })
  const status = out.ConsumerDescription?.ConsumerStatus
  if (status === 'DELETING') throw new StreamConsumerError(`Stream consumer ${request.consumerName} is being deleted`)
  return { arn: out.ConsumerDescription?.ConsumerARN, status }
}

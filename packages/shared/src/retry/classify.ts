import { AwsCallError, KinesisTsError } from '../errors.js'

/** What a failed AWS call means for the caller. */
export interface ErrorClassification {
  /** The service's error name, a Node network code, our own error's code, or 'UnknownError'. */
  readonly code: string
  /** Trying again later may succeed. */
  readonly retriable: boolean
  /** The service asked us to slow down (rate limiters should back off). */
  readonly throttled: boolean
}

/** What an error name means: slow down and retry, retry, or give up. */
export type ErrorVerdict = 'throttled' | 'retriable' | 'terminal'

/**
 * AWS error names of Kinesis and DynamoDB (and Node network codes), and what each means: the one
 * table for the producer and the consumer. What to do with a name missing here is the caller's
 * policy: classifyError judges by HTTP status and the SDK's hints, the producer's per-record rule
 * retries it until recordTtl.
 */
const VERDICTS: Readonly<Record<string, ErrorVerdict>> = {
  // Throttling: retriable, and the caller should slow down.
  ProvisionedThroughputExceededException: 'throttled',
  ThrottlingException: 'throttled',
  Throttling: 'throttled',
  ThrottledException: 'throttled',
  TooManyRequestsException: 'throttled',
  RequestLimitExceeded: 'throttled',
  LimitExceededException: 'throttled',
  SlowDown: 'throttled',
  KMSThrottlingException: 'throttled',
  // Transient service or network faults.
  InternalFailure: 'retriable',
  InternalFailureException: 'retriable',
  InternalServerError: 'retriable',
  InternalServerErrorException: 'retriable',
  ServiceUnavailable: 'retriable',
  ServiceUnavailableException: 'retriable',
  RequestTimeout: 'retriable',
  RequestTimeoutException: 'retriable',
  TimeoutError: 'retriable',
  TransactionConflictException: 'retriable',
  ItemCollectionSizeLimitExceededException: 'terminal',
  ECONNRESET: 'retriable',
  ECONNREFUSED: 'retriable',
  ECONNABORTED: 'retriable',
  EPIPE: 'retriable',
  ETIMEDOUT: 'retriable',
  EAI_AGAIN: 'retriable',
  EHOSTUNREACH: 'retriable',
  ENETUNREACH: 'retriable',
  ERR_HTTP2_STREAM_ERROR: 'retriable',
  ERR_HTTP2_SESSION_ERROR: 'retriable',
  ERR_HTTP2_GOAWAY_SESSION: 'retriable',
  ERR_STREAM_PREMATURE_CLOSE: 'retriable',
  // Terminal: retrying cannot help.
  ResourceNotFoundException: 'terminal',
  ResourceInUseException: 'terminal',
  AccessDeniedException: 'terminal',
  UnrecognizedClientException: 'terminal',
  InvalidSignatureException: 'terminal',
  MissingAuthenticationTokenException: 'terminal',
  ExpiredTokenException: 'terminal',
  ValidationException: 'terminal',
  InvalidArgumentException: 'terminal',
  SerializationException: 'terminal',
  ConditionalCheckFailedException: 'terminal',
  ExpiredIteratorException: 'terminal',
  ExpiredNextTokenException: 'terminal',
  KMSDisabledException: 'terminal',
  KMSInvalidStateException: 'terminal',
  KMSAccessDeniedException: 'terminal',
  KMSNotFoundException: 'terminal',
  KMSOptInRequired: 'terminal',
  AbortError: 'terminal',
}

/** The table's verdict on an error name; undefined for a name it does not list. */
export function errorVerdict(code: string): ErrorVerdict | undefined {
  // hasOwn: a name such as 'constructor' must not find Object.prototype.
  return Object.hasOwn(VERDICTS, code) ? VERDICTS[code] : undefined
}

interface ErrorShape {
  readonly name?: unknown
  readonly code?: unknown
  readonly $retryable?: { readonly throttling?: boolean } | undefined
  readonly $metadata?: { readonly httpStatusCode?: number } | undefined
  readonly cause?: unknown
}

/** The error name an AWS SDK error (or a Node network error inside it) carries. */
export function awsErrorCode(error: unknown): string {
  if (error instanceof AwsCallError) return error.awsCode
  if (typeof error !== 'object' || error === null) return 'UnknownError'
  const shape = error as ErrorShape
  // Node network errors carry their meaning in `code` (ECONNRESET); SDK errors in `name`.
  if (typeof shape.code === 'string' && errorVerdict(shape.code) !== undefined) return shape.code
  if (typeof shape.name === 'string' && shape.name !== 'Error' && shape.name.length > 0) return shape.name
  if (typeof shape.code === 'string') return shape.code
  return 'UnknownError'
}

/**
 * Classifies an error from the AWS SDK (or the network under it) as throttled, retriable or
 * terminal, in one place for the producer and the consumer.
 */
export function classifyError(error: unknown): ErrorClassification {
  // Our own errors carry their verdict: an AwsCallError was classified when it was wrapped.
  if (error instanceof AwsCallError) {
    return { code: error.awsCode, retriable: error.retriable, throttled: error.throttled }
  }
  if (error instanceof KinesisTsError) return { code: error.code, retriable: error.retriable, throttled: false }
  const code = awsErrorCode(error)
  const verdict = errorVerdict(code)
  if (verdict !== undefined) {
    return { code, retriable: verdict !== 'terminal', throttled: verdict === 'throttled' }
  }
  if (typeof error === 'object' && error !== null) {
    const shape = error as ErrorShape
    if (shape.$retryable !== undefined) {
      return { code, retriable: true, throttled: shape.$retryable.throttling === true }
    }
    const status = shape.$metadata?.httpStatusCode
    if (status === 429) return { code, retriable: true, throttled: true }
    if (status !== undefined && status >= 500) return { code, retriable: true, throttled: false }
    if (status !== undefined && status >= 400) return { code, retriable: false, throttled: false }
    // No HTTP response at all: a network fault below the SDK, worth another try.
    if (status === undefined && shape.cause !== undefined) return classifyError(shape.cause)
    if (status === undefined && /socket hang up|ECONNRESET|EPIPE|timed? ?out/i.test(String((error as Error).message))) {
      return { code, retriable: true, throttled: false }
    }
  }
  return { code, retriable: false, throttled: false }
}

/** Wraps an SDK error as an AwsCallError carrying its classification. */
export function toAwsCallError(operation: string, error: unknown): AwsCallError {
  if (error instanceof AwsCallError) return error
  const { code, retriable, throttled } = classifyError(error)
  return new AwsCallError(operation, code, retriable, throttled, error)
}

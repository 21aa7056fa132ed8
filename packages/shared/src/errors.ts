/**
 * One error hierarchy for every kinesis-ts package. Users match on `code` (stable strings);
 * `instanceof` works across duplicated bundles (ESM + CJS copies, two installed versions)
 * because each class checks a global brand instead of its prototype chain.
 */

const BRAND = Symbol.for('kinesis-ts.error')

export interface KinesisTsErrorOptions {
  readonly cause?: unknown
  readonly retriable?: boolean
}

export class KinesisTsError extends Error {
  /** A stable, machine-readable identifier; never changes between releases. */
  readonly code: string
  /** True when the same operation may succeed if tried again. */
  readonly retriable: boolean

  constructor(code: string, message: string, options: KinesisTsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'KinesisTsError'
    this.code = code
    this.retriable = options.retriable ?? false
    Object.defineProperty(this, BRAND, { value: code })
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (typeof value !== 'object' || value === null || !(BRAND in value)) return false
    // Subclasses narrow by their own code set; the base class accepts every branded error.
    // biome-ignore lint/complexity/noThisInStatic: `this` is the subclass being tested against.
    const codes = (this as { readonly codes?: ReadonlySet<string> }).codes
    return codes === undefined || codes.has((value as Record<symbol, string>)[BRAND] ?? '')
  }
}

function codesOf(...codes: string[]): ReadonlySet<string> {
  return new Set(codes)
}

/** A single call got a bad argument: names the field, the limit and what was given. */
export class InvalidArgumentError extends KinesisTsError {
  static readonly codes = codesOf('ERR_INVALID_ARGUMENT')
  readonly field: string
  readonly limit: string

  constructor(field: string, limit: string, received?: unknown) {
    super('ERR_INVALID_ARGUMENT', `Invalid ${field}: ${limit}${describeReceived(received)}`)
    this.name = 'InvalidArgumentError'
    this.field = field
    this.limit = limit
  }
}

/** A configuration option is out of range or contradicts another option. */
export class ConfigurationError extends KinesisTsError {
  static readonly codes = codesOf('ERR_INVALID_CONFIG')
  readonly option: string
  readonly allowed: string

  constructor(option: string, allowed: string, received?: unknown) {
    super(
      'ERR_INVALID_CONFIG',
      `Invalid option ${option}: expected ${allowed}${describeReceived(received, CONFIG_STRING_LIMIT)}`,
    )
    this.name = 'ConfigurationError'
    this.option = option
    this.allowed = allowed
  }
}

/** The object was closed or destroyed; the call cannot be served. */
export class ClosedError extends KinesisTsError {
  static readonly codes = codesOf('ERR_CLOSED')
  constructor(what: string) {
    super('ERR_CLOSED', `${what} is closed`)
    this.name = 'ClosedError'
  }
}

/** An operation was cancelled through its AbortSignal. */
export class AbortedError extends KinesisTsError {
  static readonly codes = codesOf('ERR_ABORTED')
  constructor(reason?: unknown) {
    super('ERR_ABORTED', 'The operation was aborted', { cause: reason })
    this.name = 'AbortedError'
  }
}

/** A call to Kinesis or DynamoDB failed; `awsCode` is the service's error name. */
export class AwsCallError extends KinesisTsError {
  static readonly codes = codesOf('ERR_AWS')
  readonly awsCode: string
  readonly throttled: boolean

  constructor(operation: string, awsCode: string, retriable: boolean, throttled: boolean, cause: unknown) {
    super('ERR_AWS', `${operation} failed: ${awsCode}${cause instanceof Error ? `: ${cause.message}` : ''}`, {
      cause,
      retriable,
    })
    this.name = 'AwsCallError'
    this.awsCode = awsCode
    this.throttled = throttled
  }
}

/** A local backend (kinesis-local, dynalite, a container) could not be started. */
export class BackendStartError extends KinesisTsError {
  static readonly codes = codesOf('ERR_BACKEND_START')
  constructor(backend: string, reason: string, cause?: unknown) {
    super('ERR_BACKEND_START', `Could not start ${backend}: ${reason}`, { cause })
    this.name = 'BackendStartError'
  }
}

/**
 * Option values are what the operator wrote (paths, ARNs, endpoints) and are shown whole up to this;
 * a value given to a single call (a partition key, record data) is user data and stays short.
 */
const CONFIG_STRING_LIMIT = 1024
const ARGUMENT_STRING_LIMIT = 40

function describeReceived(received: unknown, stringLimit = ARGUMENT_STRING_LIMIT): string {
  if (received === undefined) return ''
  return ` (received ${describeValue(received, stringLimit)})`
}

/** A short, safe rendering of a user value for error messages: never dumps large payloads. */
export function describeValue(value: unknown, stringLimit = ARGUMENT_STRING_LIMIT): string {
  if (value === null) return 'null'
  if (typeof value === 'string')
    return value.length > stringLimit ? `a string of ${value.length} characters` : JSON.stringify(value)
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value)
  if (value instanceof Uint8Array) return `${value.constructor.name} of ${value.byteLength} bytes`
  if (Array.isArray(value)) return `an array of ${value.length}`
  return typeof value
}

/** The `code` of any error-like value, or undefined. */
export function errorCodeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' ? code : undefined
}

/** A call did not answer within its deadline and was abandoned (trying again may succeed). */
export class CallTimeoutError extends KinesisTsError {
  static readonly codes = codesOf('ERR_TIMEOUT')
  readonly operation: string
  readonly timeoutMs: number
  constructor(operation: string, timeoutMs: number) {
    super('ERR_TIMEOUT', `${operation} did not answer within ${timeoutMs} ms`, { retriable: true })
    this.name = 'CallTimeoutError'
    this.operation = operation
    this.timeoutMs = timeoutMs
  }
}

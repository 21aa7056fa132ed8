/**
 * The JSON envelope a dead-lettered record travels in: the original partition key and data (base64),
 * why it failed and where it came from. The envelope is the whole record, not headers beside the data: a
 * dead-letter stream must be readable by any reader, aggregate-aware or not. `kinesisTsDeadLetter` is the
 * format version.
 */
export interface DeadLetterEnvelope {
  readonly kinesisTsDeadLetter: 1
  readonly partitionKey: string
  /** Only when the original record had one. */
  readonly explicitHashKey?: string
  /** The original data, base64. */
  readonly data: string
  /** The original record's headers, only when it had some (a trace context among them). */
  readonly headers?: Readonly<Record<string, string>>
  readonly error: { readonly name: string; readonly message: string; readonly code?: string }
  /** The stream the record was read from, when deadLetterToStream was told (sourceStreamName). */
  readonly streamName?: string
  readonly shardId: string
  readonly sequenceNumber: string
  readonly subSequenceNumber: number
  /** processRecords calls with this record in them that threw. */
  readonly attempts: number
  /** ISO 8601, as Kinesis stamped the original record. */
  readonly approximateArrivalTimestamp?: string
  /** ISO 8601, when the envelope was made. */
  readonly deadLetteredAt: string
}

/** What the envelope is made from: a consumer's PoisonRecord has this shape. */
export interface DeadLetterSource {
  readonly shardId: string
  readonly record: {
    readonly partitionKey: string
    readonly data: Uint8Array
    readonly sequenceNumber: string
    readonly subSequenceNumber: number
    readonly explicitHashKey?: string | undefined
    readonly approximateArrivalTimestamp?: Date | undefined
    readonly headers?: Readonly<Record<string, string>> | undefined
  }
  readonly error: unknown
  readonly attempts: number
}

/** Error messages can be huge (a stack in the message, a whole payload): the envelope keeps the start. */
const MAX_ERROR_MESSAGE = 4_096

function errorOf(error: unknown): DeadLetterEnvelope['error'] {
  const shaped = error as { name?: unknown; message?: unknown; code?: unknown } | null | undefined
  const isObject = typeof error === 'object' && error !== null
  const name = isObject && typeof shaped?.name === 'string' ? shaped.name : 'Error'
  const message = isObject && typeof shaped?.message === 'string' ? shaped.message : String(error)
  const code = isObject && typeof shaped?.code === 'string' ? shaped.code : undefined
  return {
    name,
    message: message.length > MAX_ERROR_MESSAGE ? `${message.slice(0, MAX_ERROR_MESSAGE)}…` : message,
    ...(code === undefined ? {} : { code }),
  }
}

export function deadLetterEnvelope(
  poison: DeadLetterSource,
  sourceStreamName: string | undefined,
  now = new Date(),
): DeadLetterEnvelope {
  const { record } = poison
  const arrival = record.approximateArrivalTimestamp
  return {
    kinesisTsDeadLetter: 1,
    partitionKey: record.partitionKey,
    ...(record.explicitHashKey === undefined ? {} : { explicitHashKey: record.explicitHashKey }),
    data: Buffer.from(record.data.buffer, record.data.byteOffset, record.data.byteLength).toString('base64'),
    ...(record.headers === undefined || Object.keys(record.headers).length === 0
      ? {}
      : { headers: { ...record.headers } }),
    error: errorOf(poison.error),
    ...(sourceStreamName === undefined ? {} : { streamName: sourceStreamName }),
    shardId: poison.shardId,
    sequenceNumber: record.sequenceNumber,
    subSequenceNumber: record.subSequenceNumber,
    attempts: poison.attempts,
    ...(arrival instanceof Date && !Number.isNaN(arrival.getTime())
      ? { approximateArrivalTimestamp: arrival.toISOString() }
      : {}),
    deadLetteredAt: now.toISOString(),
  }
}

const decoder = new TextDecoder('utf-8', { fatal: true })

/** The envelope in `data`, or undefined when `data` is not one (another writer's record on the stream). */
export function parseDeadLetterEnvelope(data: Uint8Array): DeadLetterEnvelope | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(decoder.decode(data))
  } catch {
    return undefined
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined
  const envelope = parsed as Partial<Record<keyof DeadLetterEnvelope, unknown>>
  if (
    envelope.kinesisTsDeadLetter !== 1 ||
    typeof envelope.partitionKey !== 'string' ||
    typeof envelope.data !== 'string' ||
    typeof envelope.shardId !== 'string' ||
    typeof envelope.sequenceNumber !== 'string' ||
    typeof envelope.subSequenceNumber !== 'number' ||
    typeof envelope.attempts !== 'number' ||
    (envelope.explicitHashKey !== undefined && typeof envelope.explicitHashKey !== 'string') ||
    (envelope.headers !== undefined && (typeof envelope.headers !== 'object' || envelope.headers === null)) ||
    typeof envelope.error !== 'object' ||
    envelope.error === null
  ) {
    return undefined
  }
  return parsed as DeadLetterEnvelope
}

/** The original data of an envelope. */
export function originalData(envelope: DeadLetterEnvelope): Uint8Array {
  return new Uint8Array(Buffer.from(envelope.data, 'base64'))
}

/**
 * The messages between a lane proxy (main thread) and its lane task (worker thread), and the
 * packing of record data for the hop. Worker-side code imports this file, so it imports types only:
 * a worker must not need the package's dependencies to start.
 */
import type { MessagePort } from 'node:worker_threads'
import type { ExtendedSequenceNumber, KinesisClientRecord } from '../types.js'

export type LifecycleMethod = 'initialize' | 'processRecords' | 'leaseLost' | 'shardEnded' | 'shutdownRequested'

/** A record without its data: the data of a whole lane batch travels as one transferred buffer. */
export interface WireRecord {
  readonly partitionKey: string
  readonly sequenceNumber: string
  readonly subSequenceNumber: number
  readonly explicitHashKey?: string
  readonly arrivalMs: number
  readonly aggregated: boolean
  /** Only when the record has some (a trace context among them): most records have none. */
  readonly headers?: Readonly<Record<string, string>>
  readonly offset: number
  readonly length: number
}

export interface WireError {
  readonly name: string
  readonly message: string
  readonly code?: string
  readonly retriable?: boolean
  readonly stack?: string
}

export type ToLane =
  | {
      readonly type: 'call'
      readonly id: number
      readonly method: LifecycleMethod
      readonly position?: ExtendedSequenceNumber
      readonly records?: WireRecord[]
      readonly data?: ArrayBuffer
      readonly millisBehindLatest?: number
    }
  | {
      readonly type: 'checkpointResult'
      readonly callId: number
      readonly error?: WireError
      readonly pending?: ExtendedSequenceNumber
    }
  | { readonly type: 'stop' }

export type CheckpointOp = 'checkpoint' | 'prepare' | 'commit'

export type FromLane =
  | { readonly type: 'done'; readonly id: number; readonly error?: WireError }
  | {
      readonly type: 'checkpoint'
      readonly callId: number
      readonly op: CheckpointOp
      /** Undefined: "everything delivered so far" (or SHARD_END in shardEnded). */
      readonly target?: ExtendedSequenceNumber
      /** For 'commit': the callId of the prepare it commits. */
      readonly preparedId?: number
    }

/** What piscina runs: one long-lived task per lane, talking over `port` until told to stop. */
export interface LaneTask {
  readonly port: MessagePort
  readonly processorModule: string
  readonly shardId: string
  readonly lane: number
  readonly lanes: number
}

export function toWireError(error: unknown): WireError {
  if (error instanceof Error) {
    const shaped = error as Error & { code?: unknown; retriable?: unknown }
    return {
      name: error.name,
      message: error.message,
      ...(typeof shaped.code === 'string' ? { code: shaped.code } : {}),
      ...(typeof shaped.retriable === 'boolean' ? { retriable: shaped.retriable } : {}),
      ...(error.stack === undefined ? {} : { stack: error.stack }),
    }
  }
  return { name: 'Error', message: String(error) }
}

/**
 * Copies the data of `records` once, into one compact buffer that is then transferred (moved, not
 * cloned) to the worker. Sending the SDK's views as they are would structured-clone each view's whole
 * backing buffer (often a pooled response buffer far larger than the record); the originals stay
 * intact in the main thread for redelivery after a crash.
 */
export function packRecords(records: readonly KinesisClientRecord[]): { records: WireRecord[]; data: ArrayBuffer } {
  let total = 0
  for (const record of records) total += record.data.byteLength
  const data = new ArrayBuffer(total)
  const bytes = new Uint8Array(data)
  let offset = 0
  const wire = records.map((record) => {
    bytes.set(record.data, offset)
    const entry: WireRecord = {
      partitionKey: record.partitionKey,
      sequenceNumber: record.sequenceNumber,
      subSequenceNumber: record.subSequenceNumber,
      ...(record.explicitHashKey === undefined ? {} : { explicitHashKey: record.explicitHashKey }),
      arrivalMs: record.approximateArrivalTimestamp.getTime(),
      aggregated: record.aggregated,
      ...(hasHeaders(record.headers) ? { headers: record.headers } : {}),
      offset,
      length: record.data.byteLength,
    }
    offset += record.data.byteLength
    return entry
  })
  return { records: wire, data }
}

/** The worker side of packRecords: records whose data are views into the one transferred buffer. */
export function unpackRecords(records: readonly WireRecord[], data: ArrayBuffer): KinesisClientRecord[] {
  return records.map((record) => ({
    data: new Uint8Array(data, record.offset, record.length),
    partitionKey: record.partitionKey,
    sequenceNumber: record.sequenceNumber,
    subSequenceNumber: record.subSequenceNumber,
    ...(record.explicitHashKey === undefined ? {} : { explicitHashKey: record.explicitHashKey }),
    approximateArrivalTimestamp: new Date(record.arrivalMs),
    aggregated: record.aggregated,
    headers: record.headers ?? NO_HEADERS,
  }))
}

/** The worker side's empty headers (this file imports no values from the package's dependencies). */
const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({})

/** True when a record has any header (without building the key list). */
export function hasHeaders(headers: Readonly<Record<string, string>>): boolean {
  for (const _ in headers) return true
  return false
}

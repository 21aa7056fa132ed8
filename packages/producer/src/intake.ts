import { type HashKeyCache, type HashKeyParts, type PartitionKeyEntry, hashKeyParts } from '@kinesis-ts/shared'
import { type DataSlabs, copyRange } from './data-slabs.js'
import type { PendingUserRecord } from './pending.js'
import type { StreamTarget } from './stream-target.js'
import type { Attempt, UserRecordResult } from './types.js'
import type { CheckedRecord } from './validate.js'

/**
 * Makes the promise addUserRecord returns and keeps its resolve function, without a closure per
 * call: `capture` is one function for the producer's lifetime, so a record costs the Promise and its
 * resolving functions, not also an executor closure and its context. Only `resolve` is kept (a
 * failure resolves with a Rejection thenable, see settlement.ts): a record waits about a second in a
 * busy producer, so whatever it holds survives young-generation collections and is copied by each
 * of them; the reject function not held dies young.
 */
export class PromiseSettlers {
  resolve: (result: UserRecordResult | PromiseLike<UserRecordResult>) => void = noop
  readonly #capture = (resolve: (result: UserRecordResult | PromiseLike<UserRecordResult>) => void): void => {
    this.resolve = resolve
  }

  /** A new promise; its resolve function is in `resolve` until the next call. */
  next(): Promise<UserRecordResult> {
    return new Promise(this.#capture)
  }
}

function noop(): void {}

/**
 * A call of addUserRecord becomes the record the producer holds until it settles, right away: the same
 * object waits for room (see Admission) and goes through the pipeline, so there is one per record.
 * `arrivedAt` is `now`, and is set again when a waiting record is admitted. Its data is copied into
 * `slabs` (see DataSlabs); of the caller's record it keeps only the headers object, so the caller's
 * data can be collected once copied.
 */
export function pendingUserRecord(
  checked: CheckedRecord,
  headers: Readonly<Record<string, string>> | undefined,
  target: StreamTarget,
  generation: number,
  hashKeys: HashKeyCache,
  settlers: PromiseSettlers,
  slabs: DataSlabs,
  now: number,
): PendingUserRecord {
  // One cache entry per key holds its hash in parts and serves as its aggregate key slot.
  const entry = checked.explicitHashKeyValue === undefined ? hashKeys.entry(checked.partitionKey) : undefined
  const offset = slabs.copy(checked.rawData, checked.dataLength)
  return new SlabUserRecord(
    checked,
    headers,
    target,
    generation,
    entry ?? hashKeyParts(checked.explicitHashKeyValue!),
    entry,
    slabs.buffer,
    offset,
    settlers.resolve,
    now,
  )
}

/** A pending user record whose data lives in a shared slab: `data` is a view made when asked for. */
class SlabUserRecord implements PendingUserRecord {
  readonly headers: Readonly<Record<string, string>> | undefined
  readonly partitionKey: string
  readonly explicitHashKey: string | undefined
  readonly hashKey: HashKeyParts
  readonly partitionKeySlot: PartitionKeyEntry | undefined
  readonly dataLength: number
  readonly bytes: number
  readonly tags: Uint8Array | undefined
  readonly target: StreamTarget
  arrivedAt: number
  readonly generation: number
  attempts: Attempt[] | undefined = undefined
  settled = false
  readonly resolve: PendingUserRecord['resolve']
  readonly #slab: Buffer
  readonly #offset: number

  constructor(
    checked: CheckedRecord,
    headers: Readonly<Record<string, string>> | undefined,
    target: StreamTarget,
    generation: number,
    hashKey: HashKeyParts,
    partitionKeySlot: PartitionKeyEntry | undefined,
    slab: Buffer,
    offset: number,
    resolve: PendingUserRecord['resolve'],
    now: number,
  ) {
    this.headers = headers
    this.partitionKey = checked.partitionKey
    this.explicitHashKey = checked.explicitHashKey
    this.hashKey = hashKey
    this.partitionKeySlot = partitionKeySlot
    this.dataLength = checked.dataLength
    this.bytes = checked.bytes
    this.tags = checked.tags
    this.target = target
    this.arrivedAt = now
    this.generation = generation
    this.resolve = resolve
    this.#slab = slab
    this.#offset = offset
  }

  /** A new view of its bytes each time: read it once per use. */
  get data(): Uint8Array {
    return this.#slab.subarray(this.#offset, this.#offset + this.dataLength)
  }

  /** Its bytes into `out` at `offset`, without a view object for data too short to be worth one. */
  writeDataTo(out: Uint8Array, offset: number): number {
    return copyRange(out, offset, this.#slab, this.#offset, this.dataLength)
  }
}

import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  type GetItemCommandOutput,
  PutItemCommand,
  QueryCommand,
  type QueryCommandOutput,
  ScanCommand,
  type ScanCommandOutput,
  UpdateItemCommand,
  type UpdateItemCommandInput,
  type UpdateItemCommandOutput,
} from '@aws-sdk/client-dynamodb'
import { AwsCallError, toAwsCallError, withDeadline } from '@kinesis-ts/shared'
import type { ExtendedSequenceNumber } from '../types.js'
import { LEASE_ATTRIBUTES as A, type Item, leaseFromItem, leaseToItem } from './lease-serializer.js'
import { LEASE_OWNER_INDEX } from './lease-table.js'
import type { Lease } from './lease.js'

interface Update {
  set?: Record<string, Item[string]>
  add?: Record<string, Item[string]>
  remove?: string[]
  /** Attribute name → expected value; `null` means "must not exist". */
  expect?: Record<string, Item[string] | null>
}

const n = (value: number) => ({ N: String(value) })
const s = (value: string) => ({ S: value })

/** Builds an UpdateItem input from plain maps, with placeholders for every name and value. */
function updateInput(tableName: string, leaseKey: string, update: Update): UpdateItemCommandInput {
  const names: Record<string, string> = {}
  const values: Record<string, Item[string]> = {}
  let i = 0
  const name = (attribute: string) => {
    const placeholder = `#a${i++}`
    names[placeholder] = attribute
    return placeholder
  }
  const value = (v: Item[string]) => {
    const placeholder = `:v${i++}`
    values[placeholder] = v
    return placeholder
  }
  const clauses: string[] = []
  const sets = Object.entries(update.set ?? {}).map(([k, v]) => `${name(k)} = ${value(v)}`)
  if (sets.length > 0) clauses.push(`SET ${sets.join(', ')}`)
  const adds = Object.entries(update.add ?? {}).map(([k, v]) => `${name(k)} ${value(v)}`)
  if (adds.length > 0) clauses.push(`ADD ${adds.join(', ')}`)
  if (update.remove !== undefined && update.remove.length > 0)
    clauses.push(`REMOVE ${update.remove.map(name).join(', ')}`)
  const conditions = Object.entries(update.expect ?? {}).map(([k, v]) =>
    v === null ? `attribute_not_exists(${name(k)})` : `${name(k)} = ${value(v)}`,
  )
  conditions.push(`attribute_exists(${name(A.leaseKey)})`)
  return {
    TableName: tableName,
    Key: { [A.leaseKey]: s(leaseKey) },
    UpdateExpression: clauses.join(' '),
    ConditionExpression: conditions.join(' AND '),
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: Object.keys(values).length > 0 ? values : undefined,
    ReturnValues: 'ALL_NEW',
  }
}

/** By name as well as class: a second copy of the SDK in the tree must not turn a failed condition into an error. */
function isConditionFailed(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error as Error | undefined)?.name === 'ConditionalCheckFailedException'
  )
}

/** The conditions of a KCL 3.x assign: both owner fields as read (absent stays absent). */
function ownerFields(lease: Lease): Record<string, Item[string] | null> {
  return {
    [A.leaseOwner]: lease.leaseOwner === undefined ? null : s(lease.leaseOwner),
    [A.checkpointOwner]: lease.checkpointOwner === undefined ? null : s(lease.checkpointOwner),
  }
}

/**
 * Who may write a held lease: its `leaseOwner`, or — during a KCL 3.x graceful handoff this worker is
 * giving, when the held item names it as `checkpointOwner` — the old owner, who checkpoints before it
 * assigns the lease over (kcl3-protocol §4.2).
 */
function heldBy(lease: Lease, owner: string): Record<string, Item[string]> {
  return lease.checkpointOwner === owner ? { [A.checkpointOwner]: s(owner) } : { [A.leaseOwner]: s(owner) }
}

/** KB/s with the 6 decimals Java writes (LeaseStatsRecorder). */
const kbps = (value: number) => ({ N: value.toFixed(6) })

const PENDING = [A.pendingCheckpoint, A.pendingCheckpointSubSequenceNumber, A.pendingCheckpointState]

/**
 * Reads and writes the lease table. Every write that changes who owns a lease or where it stands
 * is conditional on the `leaseCounter` the caller last saw (and the owner), so two workers can
 * never both believe they hold a lease. A failed condition answers `undefined`, not an error.
 */
export class LeaseStore {
  readonly #client: DynamoDBClient
  readonly #tableName: string
  readonly #timeoutMs: number

  /** `timeoutMs` bounds every call (0: none), so one hung request cannot freeze a loop. */
  constructor(client: DynamoDBClient, tableName: string, timeoutMs = 0) {
    this.#client = client
    this.#tableName = tableName
    this.#timeoutMs = timeoutMs
  }

  get tableName(): string {
    return this.#tableName
  }

  /**
   * Every lease. `consistent: false` (half the read cost) serves the frequent expiry watch, where a
   * stale answer only delays a take: takes are conditional on the counter they saw.
   */
  async listLeases(signal?: AbortSignal, { consistent = true }: { consistent?: boolean } = {}): Promise<Lease[]> {
    const leases: Lease[] = []
    let startKey: Item | undefined
    do {
      const command = new ScanCommand({
        TableName: this.#tableName,
        ConsistentRead: consistent,
        ExclusiveStartKey: startKey,
      })
      const page = await this.#send<ScanCommandOutput>('Scan', command, signal)
      for (const item of page.Items ?? []) {
        const lease = leaseFromItem(item)
        if (lease !== undefined) leases.push(lease)
      }
      startKey = page.LastEvaluatedKey
    } while (startKey !== undefined)
    return leases
  }

  async getLease(leaseKey: string, signal?: AbortSignal): Promise<Lease | undefined> {
    const command = new GetItemCommand({
      TableName: this.#tableName,
      Key: { [A.leaseKey]: s(leaseKey) },
      ConsistentRead: true,
    })
    const { Item } = await this.#send<GetItemCommandOutput>('GetItem', command, signal)
    return Item === undefined ? undefined : leaseFromItem(Item)
  }

  /** Creates the lease unless one exists for the shard; true when this call created it. */
  async createLeaseIfNotExists(lease: Lease): Promise<boolean> {
    const command = new PutItemCommand({
      TableName: this.#tableName,
      Item: leaseToItem(lease),
      ConditionExpression: 'attribute_not_exists(#k)',
      ExpressionAttributeNames: { '#k': A.leaseKey },
    })
    return (await this.#conditional('PutItem', command)) !== undefined
  }

  /** `signal` stops the call, the SDK's retries included (the lease was released meanwhile). */
  renew(lease: Lease, owner: string, signal?: AbortSignal): Promise<Lease | undefined> {
    return this.#update(
      lease.leaseKey,
      {
        set: { [A.leaseCounter]: n(lease.leaseCounter + 1) },
        expect: { [A.leaseCounter]: n(lease.leaseCounter), [A.leaseOwner]: s(owner) },
      },
      signal,
    )
  }

  /**
   * The KCL 3.x renewal (kcl3-protocol §3): also expects no `checkpointOwner` unless the held lease
   * already knows of a handoff (then it expects this worker there), so the leader's initiate-handoff
   * write makes the next renewal fail and the owner learn of it; writes the lease's throughput
   * (undefined: left as it is, for the first renewal of a lease just acquired).
   */
  renew3x(
    lease: Lease,
    owner: string,
    throughputKBps: number | undefined,
    signal?: AbortSignal,
  ): Promise<Lease | undefined> {
    const handingOff = lease.checkpointOwner === owner
    const throughput: Record<string, Item[string]> =
      throughputKBps === undefined ? {} : { [A.throughputKBps]: kbps(throughputKBps) }
    return this.#update(
      lease.leaseKey,
      {
        set: { [A.leaseCounter]: n(lease.leaseCounter + 1), ...throughput },
        expect: {
          [A.leaseCounter]: n(lease.leaseCounter),
          ...heldBy(lease, owner),
          ...(handingOff ? {} : { [A.checkpointOwner]: null }),
        },
      },
      signal,
    )
  }

  /**
   * Keys of the leases naming `owner`, from the KEYS_ONLY `LeaseOwnerToLeaseKeyIndex` (eventually
   * consistent: the caller reads each item before it acts).
   */
  async listLeaseKeysOwnedBy(owner: string, signal?: AbortSignal): Promise<string[]> {
    const keys: string[] = []
    let startKey: Item | undefined
    do {
      const command = new QueryCommand({
        TableName: this.#tableName,
        IndexName: LEASE_OWNER_INDEX,
        KeyConditionExpression: '#o = :o',
        ExpressionAttributeNames: { '#o': A.leaseOwner },
        ExpressionAttributeValues: { ':o': s(owner) },
        ExclusiveStartKey: startKey,
      })
      const page = await this.#send<QueryCommandOutput>('Query', command, signal)
      for (const item of page.Items ?? []) {
        const key = item[A.leaseKey]?.S
        if (key !== undefined) keys.push(key)
      }
      startKey = page.LastEvaluatedKey
    } while (startKey !== undefined)
    return keys
  }

  /**
   * Takes an expired, unowned or stolen lease; conditional on the counter the taker saw. Clears
   * `checkpointOwner` as the Java KCL 3.x take does, so a handoff abandoned by a dead owner ends here.
   */
  take(lease: Lease, owner: string): Promise<Lease | undefined> {
    return this.#update(lease.leaseKey, {
      set: { [A.leaseOwner]: s(owner), [A.leaseCounter]: n(lease.leaseCounter + 1) },
      add: { [A.ownerSwitchesSinceCheckpoint]: n(1) },
      remove: [A.checkpointOwner],
      expect: { [A.leaseCounter]: n(lease.leaseCounter) },
    })
  }

  /** Gives a lease up (graceful shutdown): no owner, so any worker takes it at its next scan. */
  evict(lease: Lease, owner: string): Promise<Lease | undefined> {
    return this.#update(lease.leaseKey, {
      set: { [A.leaseCounter]: n(lease.leaseCounter + 1) },
      remove: [A.leaseOwner, A.checkpointOwner],
      expect: { [A.leaseCounter]: n(lease.leaseCounter), [A.leaseOwner]: s(owner) },
    })
  }

  /**
   * The KCL 3.x assign (the leader's, and the old owner's at the end of a graceful handoff): owner set,
   * `checkpointOwner` removed, counter + 1, conditional on the owner fields read, not on the counter,
   * so the current owner's next renewal fails and it drops the lease.
   */
  assign(lease: Lease, newOwner: string, signal?: AbortSignal): Promise<Lease | undefined> {
    const switches =
      (lease.leaseOwner !== undefined && lease.leaseOwner !== newOwner) || lease.checkpointOwner === newOwner
    return this.#update(
      lease.leaseKey,
      {
        set: { [A.leaseOwner]: s(newOwner) },
        add: { [A.leaseCounter]: n(1), ...(switches ? { [A.ownerSwitchesSinceCheckpoint]: n(1) } : {}) },
        remove: [A.checkpointOwner],
        expect: ownerFields(lease),
      },
      signal,
    )
  }

  /**
   * The KCL 3.x leader's start of a graceful handoff: `leaseOwner` names the new owner, `checkpointOwner`
   * the current one, who keeps renewing until it has checkpointed and assigns the lease over.
   */
  initiateHandoff(lease: Lease, newOwner: string, signal?: AbortSignal): Promise<Lease | undefined> {
    if (lease.leaseOwner === undefined) return Promise.resolve(undefined)
    return this.#update(
      lease.leaseKey,
      {
        set: { [A.leaseOwner]: s(newOwner), [A.checkpointOwner]: s(lease.leaseOwner) },
        expect: { [A.leaseOwner]: s(lease.leaseOwner), [A.checkpointOwner]: null },
      },
      signal,
    )
  }

  /** `signal` ends the call early (the lease was lost meanwhile: the write would fail anyway). */
  checkpoint(
    lease: Lease,
    owner: string,
    checkpoint: ExtendedSequenceNumber,
    signal?: AbortSignal,
  ): Promise<Lease | undefined> {
    return this.#update(
      lease.leaseKey,
      {
        set: {
          [A.leaseCounter]: n(lease.leaseCounter + 1),
          [A.checkpoint]: s(checkpoint.sequenceNumber),
          [A.checkpointSubSequenceNumber]: n(checkpoint.subSequenceNumber),
          [A.ownerSwitchesSinceCheckpoint]: n(0),
        },
        remove: PENDING,
        expect: { [A.leaseCounter]: n(lease.leaseCounter), ...heldBy(lease, owner) },
      },
      signal,
    )
  }

  prepareCheckpoint(
    lease: Lease,
    owner: string,
    pending: ExtendedSequenceNumber,
    signal?: AbortSignal,
  ): Promise<Lease | undefined> {
    return this.#update(
      lease.leaseKey,
      {
        set: {
          [A.leaseCounter]: n(lease.leaseCounter + 1),
          [A.pendingCheckpoint]: s(pending.sequenceNumber),
          [A.pendingCheckpointSubSequenceNumber]: n(pending.subSequenceNumber),
        },
        expect: { [A.leaseCounter]: n(lease.leaseCounter), ...heldBy(lease, owner) },
      },
      signal,
    )
  }

  /** Records a closed shard's children on its lease (not conditional: it does not change ownership). */
  async addChildShardIds(leaseKey: string, childShardIds: readonly string[]): Promise<void> {
    if (childShardIds.length === 0) return
    await this.#update(leaseKey, { add: { [A.childShardIds]: { SS: [...childShardIds] } } })
  }

  /** Fills the hash range of a lease written by an older Java KCL that did not store it. */
  async setHashKeyRange(leaseKey: string, range: { startingHashKey: string; endingHashKey: string }): Promise<void> {
    await this.#update(leaseKey, {
      set: { [A.startingHashKey]: s(range.startingHashKey), [A.endingHashKey]: s(range.endingHashKey) },
    })
  }

  /** Deletes a finished lease; only while it still stands at SHARD_END. */
  async deleteLease(leaseKey: string): Promise<boolean> {
    const command = new DeleteItemCommand({
      TableName: this.#tableName,
      Key: { [A.leaseKey]: s(leaseKey) },
      ConditionExpression: '#c = :end',
      ExpressionAttributeNames: { '#c': A.checkpoint },
      ExpressionAttributeValues: { ':end': s('SHARD_END') },
    })
    return (await this.#conditional('DeleteItem', command)) !== undefined
  }

  async #update(leaseKey: string, update: Update, signal?: AbortSignal): Promise<Lease | undefined> {
    const command = new UpdateItemCommand(updateInput(this.#tableName, leaseKey, update))
    const output = await this.#conditional<UpdateItemCommandOutput>('UpdateItem', command, signal)
    return output?.Attributes === undefined ? undefined : leaseFromItem(output.Attributes)
  }

  /** A conditional write: `undefined` when its condition failed, the output otherwise. */
  async #conditional<O>(operation: string, command: object, signal?: AbortSignal): Promise<O | undefined> {
    try {
      return await this.#send<O>(operation, command, signal)
    } catch (error) {
      if (isConditionFailed(error instanceof AwsCallError ? error.cause : error)) return undefined
      throw error
    }
  }

  async #send<O>(operation: string, command: object, signal?: AbortSignal): Promise<O> {
    // One typed door for every command: the SDK's overloads do not accept a union of commands.
    const send = this.#client.send.bind(this.#client) as (command: object, options: object) => Promise<O>
    try {
      return await withDeadline(operation, this.#timeoutMs, signal, (abortSignal) => send(command, { abortSignal }))
    } catch (error) {
      throw toAwsCallError(operation, error)
    }
  }
}

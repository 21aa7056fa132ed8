import { randomUUID } from 'node:crypto'
import {
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  type GetItemCommandOutput,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb'
import { durationOption, notBelow, requiredStringOption } from '@kinesis-ts/shared'
import type { ItemTable, LeaderDecider } from './contracts.js'
import { type Item, boundedSend, isConditionFailed, s, str } from './dynamo-calls.js'
import { runEveryAfter } from './periodic.js'

/*
 * Leader election with the semantics of the DynamoDB lock client 1.4.0 that Java KCL 3.x uses, so a
 * TypeScript worker and Java workers elect one leader between them. Nobody trusts a wall clock: a
 * lock is dead only once the same recordVersionNumber stayed unchanged, on the observer's own
 * monotonic clock, longer than the leaseDuration stored in the item.
 */

export const LEADER_KEY = 'Leader'
export const LEADER_ATTRIBUTES = {
  ownerName: 'ownerName',
  leaseDuration: 'leaseDuration',
  recordVersionNumber: 'recordVersionNumber',
  entityType: 'entityType',
} as const
const A = LEADER_ATTRIBUTES
export const LEADER_ENTITY_TYPE = 'LEADER'

export const DEFAULT_LEADER_LEASE_DURATION_MS = 120_000
export const DEFAULT_LEADER_HEARTBEAT_PERIOD_MS = 30_000

export interface LeaderLockTiming {
  readonly leaseDurationMillis: number
  readonly heartbeatPeriodMillis: number
}

/** Validates the two Java options; the lock library refuses a duration below two heartbeats, and so do we. */
export function leaderLockTiming(options: {
  readonly dynamoDbLockBasedLeaderLeaseDurationInMillis?: unknown
  readonly dynamoDbLockBasedLeaderHeartbeatPeriodInMillis?: unknown
}): LeaderLockTiming {
  const heartbeatPeriodMillis = durationOption(
    'dynamoDbLockBasedLeaderHeartbeatPeriodInMillis',
    options.dynamoDbLockBasedLeaderHeartbeatPeriodInMillis,
    DEFAULT_LEADER_HEARTBEAT_PERIOD_MS,
    1,
  )
  const leaseDurationMillis = notBelow(
    'dynamoDbLockBasedLeaderLeaseDurationInMillis',
    durationOption(
      'dynamoDbLockBasedLeaderLeaseDurationInMillis',
      options.dynamoDbLockBasedLeaderLeaseDurationInMillis,
      DEFAULT_LEADER_LEASE_DURATION_MS,
      1,
    ),
    '2 × dynamoDbLockBasedLeaderHeartbeatPeriodInMillis',
    2 * heartbeatPeriodMillis,
  )
  return { leaseDurationMillis, heartbeatPeriodMillis }
}

export interface DynamoDbLeaderLockOptions {
  readonly dynamodb: DynamoDBClient
  /** The table the layout names for the lock (the legacy coordinator table until the migration is COMPLETE). */
  readonly table: ItemTable
  readonly workerId: string
  /** `dynamoDbLockBasedLeaderLeaseDurationInMillis` (120 000) */
  readonly leaseDurationMillis?: number
  /** `dynamoDbLockBasedLeaderHeartbeatPeriodInMillis` (30 000) */
  readonly heartbeatPeriodMillis?: number
  /** Bounds every DynamoDB call (the consumer's DynamoDB request timeout). */
  readonly timeoutMs: number
  /** A failed heartbeat or release, for the worker's log; the lock goes on. */
  readonly onError?: (error: unknown) => void
  /** Monotonic milliseconds; `performance.now` unless a test steps time itself. */
  readonly now?: () => number
}

interface HeldLock {
  readonly recordVersionNumber: string
  /** When the write that set this RVN was sent: leadership counts from then, never from its answer. */
  readonly confirmedAt: number
}

interface ObservedLock {
  readonly recordVersionNumber: string
  readonly leaseDurationMillis: number
  readonly firstSeenAt: number
}

/** The lock as the Java lock client stores it. */
export interface LeaderLockItem {
  readonly ownerName: string | undefined
  readonly leaseDurationMillis: number | undefined
  readonly recordVersionNumber: string | undefined
}

export function leaderLockFromItem(item: Item): LeaderLockItem {
  const duration = str(item, A.leaseDuration)
  const parsed = duration === undefined ? Number.NaN : Number(duration)
  return {
    ownerName: str(item, A.ownerName),
    leaseDurationMillis: Number.isFinite(parsed) && parsed >= 0 ? parsed : undefined,
    recordVersionNumber: str(item, A.recordVersionNumber),
  }
}

/**
 * The Java `DynamoDBLockBasedLeaderDecider`: acquire a missing lock, heartbeat it while held, take over
 * a dead one, release it on stop. A non-leader reads the lock at most once per heartbeat period.
 */
export class DynamoDbLeaderLock implements LeaderDecider {
  readonly #dynamodb: DynamoDBClient
  readonly #table: ItemTable
  readonly #workerId: string
  readonly #timing: LeaderLockTiming
  readonly #timeoutMs: number
  readonly #onError: (error: unknown) => void
  readonly #now: () => number
  #held: HeldLock | undefined
  #observed: ObservedLock | undefined
  #lastCheckAt: number | undefined
  #started = false
  #stopping: Promise<void> | undefined
  #heartbeat: { readonly controller: AbortController; readonly done: Promise<void> } | undefined
  #unlinkStart: (() => void) | undefined

  constructor(options: DynamoDbLeaderLockOptions) {
    this.#dynamodb = options.dynamodb
    this.#table = options.table
    this.#workerId = requiredStringOption('workerId', options.workerId)
    this.#timing = leaderLockTiming({
      dynamoDbLockBasedLeaderLeaseDurationInMillis: options.leaseDurationMillis,
      dynamoDbLockBasedLeaderHeartbeatPeriodInMillis: options.heartbeatPeriodMillis,
    })
    this.#timeoutMs = options.timeoutMs
    this.#onError = options.onError ?? (() => {})
    this.#now = options.now ?? (() => performance.now())
  }

  get timing(): LeaderLockTiming {
    return this.#timing
  }

  /** Begins answering isLeader; aborting `signal` is the same as stop(). */
  start(signal?: AbortSignal): void {
    if (this.#started) return
    this.#started = true
    if (signal === undefined) return
    const onAbort = () => void this.stop()
    if (signal.aborted) onAbort()
    else {
      signal.addEventListener('abort', onAbort, { once: true })
      this.#unlinkStart = () => signal.removeEventListener('abort', onAbort)
    }
  }

  /** Ends the heartbeat and releases the lock if held (a conditional delete: never someone else's). */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#unlinkStart?.()
      await this.#release(AbortSignal.timeout(Math.max(1, this.#timeoutMs || 10_000)))
    })()
    return this.#stopping
  }

  async isLeader(signal: AbortSignal): Promise<boolean> {
    if (!this.#started || this.#stopping !== undefined) return false
    const held = this.#held
    if (held !== undefined) {
      // Heartbeats failing for a whole lease duration: others may take the lock from now on.
      if (this.#now() - held.confirmedAt < this.#timing.leaseDurationMillis) return true
      this.#drop()
    }
    const lastCheckAt = this.#lastCheckAt
    if (lastCheckAt !== undefined && this.#now() - lastCheckAt < this.#timing.heartbeatPeriodMillis) return false
    this.#lastCheckAt = this.#now()
    return this.#tryAcquire(signal)
  }

  /** Gives leadership up (the Java LAM does after failing runs); the next isLeader may compete again. */
  async releaseLeadershipIfHeld(signal: AbortSignal): Promise<void> {
    this.#lastCheckAt = this.#now()
    await this.#release(signal)
  }

  async #tryAcquire(signal: AbortSignal): Promise<boolean> {
    const current = await this.#read(signal)
    if (current === undefined) return this.#write(undefined, signal)
    const rvn = current.recordVersionNumber ?? ''
    const observed = this.#observed
    if (observed === undefined || observed.recordVersionNumber !== rvn) {
      // A new version: alive as far as we know. Its clock starts now, after the read answered.
      this.#observed = {
        recordVersionNumber: rvn,
        leaseDurationMillis: current.leaseDurationMillis ?? this.#timing.leaseDurationMillis,
        firstSeenAt: this.#now(),
      }
      return false
    }
    if (this.#now() - observed.firstSeenAt <= observed.leaseDurationMillis) return false
    return this.#write(rvn, signal)
  }

  async #read(signal: AbortSignal): Promise<LeaderLockItem | undefined> {
    const { Item: found } = await boundedSend<GetItemCommandOutput>(
      this.#dynamodb,
      'GetItem',
      new GetItemCommand({ TableName: this.#table.tableName, Key: this.#key(), ConsistentRead: true }),
      this.#timeoutMs,
      signal,
    )
    return found === undefined ? undefined : leaderLockFromItem(found)
  }

  /** PutItem of the whole lock: if absent (`takeOverRvn` undefined), or over the dead version observed. */
  async #write(takeOverRvn: string | undefined, signal: AbortSignal): Promise<boolean> {
    const recordVersionNumber = randomUUID()
    const sentAt = this.#now()
    const names = { '#key': this.#table.keyAttribute, '#rvn': A.recordVersionNumber }
    const command = new PutItemCommand({
      TableName: this.#table.tableName,
      Item: {
        ...this.#key(),
        [A.ownerName]: s(this.#workerId),
        [A.leaseDuration]: s(String(this.#timing.leaseDurationMillis)),
        [A.recordVersionNumber]: s(recordVersionNumber),
        [A.entityType]: s(LEADER_ENTITY_TYPE),
      },
      ...(takeOverRvn === undefined
        ? { ConditionExpression: 'attribute_not_exists(#key)', ExpressionAttributeNames: { '#key': names['#key'] } }
        : {
            ConditionExpression: 'attribute_exists(#key) AND #rvn = :rvn',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: { ':rvn': s(takeOverRvn) },
          }),
    })
    try {
      await boundedSend(this.#dynamodb, 'PutItem', command, this.#timeoutMs, signal)
    } catch (error) {
      if (isConditionFailed(error)) {
        this.#observed = undefined
        return false
      }
      throw error
    }
    this.#observed = undefined
    this.#held = { recordVersionNumber, confirmedAt: sentAt }
    this.#startHeartbeat()
    return true
  }

  #startHeartbeat(): void {
    const controller = new AbortController()
    const period = this.#timing.heartbeatPeriodMillis
    // The first heartbeat is one period after acquiring, as the lock client's background thread.
    const done = runEveryAfter(period, period, controller.signal, () => this.#sendHeartbeat(), this.#onError)
    this.#heartbeat = { controller, done }
  }

  /** Not cut by the loop's signal (see #release); bounded by the call timeout alone. */
  async #sendHeartbeat(): Promise<void> {
    const held = this.#held
    if (held === undefined) return
    const recordVersionNumber = randomUUID()
    const sentAt = this.#now()
    const command = new UpdateItemCommand({
      TableName: this.#table.tableName,
      Key: this.#key(),
      UpdateExpression: 'SET #duration = :duration, #rvn = :newRvn',
      ConditionExpression: 'attribute_exists(#key) AND #rvn = :rvn AND #owner = :owner',
      ExpressionAttributeNames: {
        '#key': this.#table.keyAttribute,
        '#duration': A.leaseDuration,
        '#rvn': A.recordVersionNumber,
        '#owner': A.ownerName,
      },
      ExpressionAttributeValues: {
        ':duration': s(String(this.#timing.leaseDurationMillis)),
        ':newRvn': s(recordVersionNumber),
        ':rvn': s(held.recordVersionNumber),
        ':owner': s(this.#workerId),
      },
    })
    try {
      await boundedSend(this.#dynamodb, 'UpdateItem', command, this.#timeoutMs, undefined)
      if (this.#held === held) this.#held = { recordVersionNumber, confirmedAt: sentAt }
    } catch (error) {
      // Someone took the lock over (or released it): no longer leader, and no more heartbeats.
      if (isConditionFailed(error) && this.#held === held) this.#drop()
      else throw error
    }
  }

  /** Forgets the lock locally and ends its heartbeat (the loop ends at its next pause). */
  #drop(): void {
    this.#held = undefined
    this.#heartbeat?.controller.abort()
    this.#heartbeat = undefined
  }

  async #release(signal: AbortSignal): Promise<void> {
    // A heartbeat in flight is let finish (bounded by the call timeout): it may change the RVN, and the
    // delete must name the latest one or it fails and the lock lingers for a whole lease duration.
    const heartbeat = this.#heartbeat
    this.#heartbeat = undefined
    heartbeat?.controller.abort()
    await heartbeat?.done
    const held = this.#held
    this.#held = undefined
    if (held === undefined) return
    try {
      await boundedSend(
        this.#dynamodb,
        'DeleteItem',
        new DeleteItemCommand({
          TableName: this.#table.tableName,
          Key: this.#key(),
          ConditionExpression: 'attribute_exists(#key) AND #rvn = :rvn AND #owner = :owner',
          ExpressionAttributeNames: {
            '#key': this.#table.keyAttribute,
            '#rvn': A.recordVersionNumber,
            '#owner': A.ownerName,
          },
          ExpressionAttributeValues: { ':rvn': s(held.recordVersionNumber), ':owner': s(this.#workerId) },
        }),
        this.#timeoutMs,
        signal,
      )
    } catch (error) {
      // Not ours any more (taken over), or unreachable: either way it expires by itself.
      if (!isConditionFailed(error)) this.#onError(error)
    }
  }

  #key(): Item {
    return { [this.#table.keyAttribute]: s(LEADER_KEY) }
  }
}

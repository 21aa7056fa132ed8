import { randomUUID } from 'node:crypto'
import type { DynamoDBClient, GetItemCommandOutput } from '@aws-sdk/client-dynamodb'
import { requiredIntegerOption, requiredStringOption } from '@kinesis-ts/shared'
import type { ItemTable, LeaderDecider } from './contracts.js'
import { boundedSend, isConditionFailed } from './dynamo-calls.js'
import {
  type LeaderLockCadence,
  type LeaderLockItem,
  type LeaderLockTiming,
  type LockWrite,
  heartbeatLeaderLockCommand,
  leaderLockCadence,
  leaderLockFromItem,
  leaderLockTiming,
  putLeaderLockCommand,
  readLeaderLockCommand,
  releaseLeaderLockCommand,
} from './leader-lock-item.js'
import { runEveryAfter } from './periodic.js'

/*
 * Leader election with the semantics of the DynamoDB lock client 1.4.0 that Java KCL 3.x uses, so a
 * TypeScript worker and Java workers elect one leader between them. Nobody trusts a wall clock: a
 * lock is dead only once the same recordVersionNumber stayed unchanged, on the observer's own
 * monotonic clock, longer than the leaseDuration stored in the item.
 *
 * kinesis-ts, beyond Java (issue 17): a TypeScript leader given a fast lease (failoverTimeMillis)
 * heartbeats every third of it, counts itself leader no longer than it after its last confirmed
 * write, and stores it in the item beside the Java leaseDuration. TypeScript followers of such an
 * item read it every watch interval and take over once its version stood still for the fast lease;
 * Java workers see an ordinary lock and keep their 120 s rule, and a lock a Java worker wrote carries
 * no fast lease, so TypeScript followers give it the Java rule too.
 */

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
  /**
   * kinesis-ts: the fast lease this worker promises when it leads (failoverTimeMillis); undefined
   * leads exactly as Java does.
   */
  readonly fastLeaseDurationMillis?: number | undefined
  /**
   * How often a follower reads a lock that carries a fast lease (eventually consistent); default the
   * heartbeat period. A lock without one is read at most once per heartbeat period, as in Java.
   */
  readonly fastWatchIntervalMillis?: number | undefined
}

interface HeldLock {
  readonly recordVersionNumber: string
  /** When the write that set this RVN was sent: leadership counts from then, never from its answer. */
  readonly confirmedAt: number
}

interface ObservedLock {
  readonly recordVersionNumber: string
  /** How long this version must stand still before it is dead: the item's fast lease, else its leaseDuration. */
  readonly expiresAfterMillis: number
  /** The version carries a TypeScript leader's fast lease: watched at the fast cadence. */
  readonly fast: boolean
  readonly firstSeenAt: number
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
  readonly #cadence: LeaderLockCadence
  #held: HeldLock | undefined
  #observed: ObservedLock | undefined
  #lastCheckAt: number | undefined
  #started = false
  #stopping: Promise<void> | undefined
  #heartbeat: { readonly controller: AbortController; readonly done: Promise<void> } | undefined
  #unlinkStart: (() => void) | undefined
  /** While a release waits for an in-flight heartbeat, whose success must not start a new loop. */
  #releasing = false
  /**
   * Versions this lock wrote whose answer never came (a timeout, a lost connection): such a write may
   * have landed. Finding one of them in the item means the lock is still ours, held since that write.
   */
  readonly #unanswered = new Map<string, number>()

  constructor(options: DynamoDbLeaderLockOptions) {
    this.#dynamodb = options.dynamodb
    this.#table = options.table
    this.#workerId = requiredStringOption('workerId', options.workerId)
    this.#timing = leaderLockTiming({
      dynamoDbLockBasedLeaderLeaseDurationInMillis: options.leaseDurationMillis,
      dynamoDbLockBasedLeaderHeartbeatPeriodInMillis: options.heartbeatPeriodMillis,
    })
    // Unbounded calls could keep a lost leader believing in itself: a bound is required.
    this.#timeoutMs = requiredIntegerOption('dynamoDbRequestTimeoutMillis', options.timeoutMs, 1)
    this.#onError = options.onError ?? (() => {})
    this.#now = options.now ?? (() => performance.now())
    this.#cadence = leaderLockCadence(this.#timing, options.fastLeaseDurationMillis, options.fastWatchIntervalMillis)
  }

  get timing(): LeaderLockTiming {
    return this.#timing
  }

  /**
   * A follower of a lock that carries a fast lease: its takeover comes within the fast lease of the
   * leader's last heartbeat, so the lease assignment manager watches lease counters meanwhile.
   */
  get followsFastLeader(): boolean {
    return this.#started && this.#stopping === undefined && this.#held === undefined && this.#observed?.fast === true
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
      await this.#release(AbortSignal.timeout(this.#timeoutMs))
    })()
    return this.#stopping
  }

  /**
   * Ends the heartbeat without releasing (a consumer's destroy(), which stands for a crash): the lock
   * stays until others see it unchanged for its stored duration, as a dead Java leader's does.
   */
  abandon(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#unlinkStart?.()
      const heartbeat = this.#heartbeat
      this.#heartbeat = undefined
      this.#releasing = true
      heartbeat?.controller.abort()
      await heartbeat?.done
      this.#held = undefined
    })()
    return this.#stopping
  }

  async isLeader(signal: AbortSignal): Promise<boolean> {
    if (!this.#started || this.#stopping !== undefined) return false
    const held = this.#held
    if (held !== undefined) {
      // Heartbeats failing for a whole (fast) lease: others may take the lock from now on.
      if (this.#now() - held.confirmedAt < this.#cadence.holdMillis) return true
      this.#drop()
    }
    const lastCheckAt = this.#lastCheckAt
    const every = this.#observed?.fast === true ? this.#cadence.fastWatchMillis : this.#timing.heartbeatPeriodMillis
    if (lastCheckAt !== undefined && this.#now() - lastCheckAt < every) return false
    this.#lastCheckAt = this.#now()
    return this.#tryAcquire(signal)
  }

  /** Gives leadership up (the Java LAM does after failing runs); the next isLeader may compete again. */
  async releaseLeadershipIfHeld(signal: AbortSignal): Promise<void> {
    this.#lastCheckAt = this.#now()
    await this.#release(signal)
  }

  async #tryAcquire(signal: AbortSignal): Promise<boolean> {
    // Watching a fast lock reads eventually consistent (half the cost); see readLeaderLockCommand.
    const current = await this.#read(signal, this.#observed?.fast !== true)
    if (current === undefined) return this.#write(undefined, signal)
    if (this.#adoptUnanswered(current)) return true
    const rvn = current.recordVersionNumber ?? ''
    const observed = this.#observed
    if (observed === undefined || observed.recordVersionNumber !== rvn) {
      // A new version: alive as far as we know. Its clock starts now, after the read answered.
      // The rule the version's writer promised: its fast lease if it wrote one (only TypeScript does), else the Java one.
      const stored = current.leaseDurationMillis ?? this.#timing.leaseDurationMillis
      const fast = current.fastLeaseDurationMillis
      this.#observed = {
        recordVersionNumber: rvn,
        expiresAfterMillis: fast === undefined ? stored : Math.min(stored, fast),
        fast: fast !== undefined,
        firstSeenAt: this.#now(),
      }
      return false
    }
    if (this.#now() - observed.firstSeenAt <= observed.expiresAfterMillis) return false
    return this.#write(rvn, signal)
  }

  async #read(signal: AbortSignal | undefined, consistent = true): Promise<LeaderLockItem | undefined> {
    const { Item: found } = await boundedSend<GetItemCommandOutput>(
      this.#dynamodb,
      'GetItem',
      readLeaderLockCommand(this.#table, consistent),
      this.#timeoutMs,
      signal,
    )
    return found === undefined ? undefined : leaderLockFromItem(found)
  }

  /** PutItem of the whole lock: if absent (`takeOverRvn` undefined), or over the dead version observed. */
  async #write(takeOverRvn: string | undefined, signal: AbortSignal): Promise<boolean> {
    const recordVersionNumber = randomUUID()
    const sentAt = this.#now()
    const command = putLeaderLockCommand(this.#table, this.#lockWrite(recordVersionNumber), takeOverRvn)
    this.#noteUnanswered(recordVersionNumber, sentAt)
    try {
      await boundedSend(this.#dynamodb, 'PutItem', command, this.#timeoutMs, signal)
    } catch (error) {
      if (isConditionFailed(error)) {
        this.#unanswered.delete(recordVersionNumber)
        this.#observed = undefined
        // Another worker wrote first: read its version at the next check rather than a heartbeat period
        // later, or a fast leader that then dies is watched only from then (30 s lost in one benchmark round).
        this.#lastCheckAt = undefined
        return false
      }
      throw error
    }
    this.#hold(recordVersionNumber, sentAt)
    return true
  }

  #hold(recordVersionNumber: string, confirmedAt: number): void {
    this.#unanswered.clear()
    this.#observed = undefined
    this.#held = { recordVersionNumber, confirmedAt }
    if (this.#heartbeat === undefined && !this.#releasing) this.#startHeartbeat()
  }

  #noteUnanswered(recordVersionNumber: string, sentAt: number): void {
    this.#unanswered.set(recordVersionNumber, sentAt)
    // Only the latest few matter: an older version in the item would have been overwritten by a later write.
    const oldest = this.#unanswered.keys().next().value
    if (this.#unanswered.size > 8 && oldest !== undefined) this.#unanswered.delete(oldest)
  }

  /** The item carries a version we wrote without hearing back: ours since that write (never longer). */
  #adoptUnanswered(current: LeaderLockItem): boolean {
    if (current.ownerName !== this.#workerId || current.recordVersionNumber === undefined) return false
    const sentAt = this.#unanswered.get(current.recordVersionNumber)
    // Past a lease duration since that write others may already count it dead: not ours to use.
    if (sentAt === undefined || this.#now() - sentAt >= this.#cadence.holdMillis) return false
    this.#hold(current.recordVersionNumber, sentAt)
    return true
  }

  #startHeartbeat(): void {
    const controller = new AbortController()
    const period = this.#cadence.heartbeatEveryMillis
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
    const command = heartbeatLeaderLockCommand(
      this.#table,
      this.#lockWrite(recordVersionNumber),
      held.recordVersionNumber,
    )
    this.#noteUnanswered(recordVersionNumber, sentAt)
    try {
      await boundedSend(this.#dynamodb, 'UpdateItem', command, this.#timeoutMs, undefined)
      if (this.#held === held) this.#hold(recordVersionNumber, sentAt)
    } catch (error) {
      if (!isConditionFailed(error)) throw error
      this.#unanswered.delete(recordVersionNumber)
      if (this.#held !== held) return
      // An earlier heartbeat may have landed unanswered; otherwise someone took the lock over (or
      // released it): no longer leader, and no more heartbeats.
      const current = await this.#read(undefined)
      if (current === undefined || !this.#adoptUnanswered(current)) this.#drop()
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
    this.#releasing = true
    heartbeat?.controller.abort()
    await heartbeat?.done
    this.#releasing = false
    const held = this.#held
    this.#held = undefined
    this.#unanswered.clear()
    if (held === undefined) return
    try {
      await boundedSend(
        this.#dynamodb,
        'DeleteItem',
        releaseLeaderLockCommand(this.#table, this.#workerId, held.recordVersionNumber),
        this.#timeoutMs,
        signal,
      )
    } catch (error) {
      // Not ours any more (taken over), or unreachable: either way it expires by itself.
      if (!isConditionFailed(error)) this.#onError(error)
    }
  }

  #lockWrite(recordVersionNumber: string): LockWrite {
    return {
      ownerName: this.#workerId,
      leaseDurationMillis: this.#timing.leaseDurationMillis,
      recordVersionNumber,
      fastLeaseDurationMillis: this.#cadence.fastLeaseMillis,
    }
  }
}

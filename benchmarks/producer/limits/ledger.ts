import { createHash } from 'node:crypto'
import { readRecordId } from '../workload.js'

/** A shard's hash-key range, both ends included. */
export interface LedgerShard {
  readonly shardId: string
  readonly startingHashKey: bigint
  readonly endingHashKey: bigint
}

/** One user record inside an accepted Kinesis record (a KPL aggregate's member, or the record itself). */
export interface AcceptedUserRecord {
  readonly partitionKey: string
  readonly explicitHashKey: string | undefined
  readonly data: Uint8Array
}

export interface ShardTally {
  readonly shardId: string
  kinesisRecords: number
  userRecords: number
  meteredBytes: number
  /** User records this shard took whose hash key it does not own: a KCL consumer of it drops them. */
  wrongShard: number
}

export interface LedgerReport {
  readonly total: number
  /** Distinct workload records accepted. */
  readonly delivered: number
  /** Acceptances of a record already accepted (a retry of a write whose answer was lost). */
  readonly duplicates: number
  /** First acceptances of a record after a later record of its key was accepted. */
  readonly orderViolations: number
  readonly wrongShard: number
  /** User records that are not workload records (bad marks, ids out of range). */
  readonly foreign: number
  readonly shards: readonly ShardTally[]
  /** Bit `id` set: record `id` was accepted at least once. */
  readonly accepted: Uint8Array
  /** One (time ms, records newly delivered, metered bytes) triple per request that delivered something. */
  readonly timeline: readonly number[]
}

/** The hash key Kinesis derives from a partition key, computed here on its own (not with the code under test). */
export function md5HashKey(partitionKey: string): bigint {
  return BigInt(`0x${createHash('md5').update(partitionKey, 'utf8').digest('hex')}`)
}

/**
 * What a limit-enforcing endpoint accepted, checked record by record: each user record's id (from its data)
 * is counted once, must come after every earlier-accepted id of its partition key, and must hash into the
 * shard that took it.
 */
export class DeliveryLedger {
  readonly #total: number
  readonly #shards: readonly LedgerShard[]
  readonly #tallies: ShardTally[]
  readonly #accepted: Uint8Array
  /** Highest id accepted per partition key. */
  readonly #highest = new Map<string, number>()
  /** Owning shard per partition key: hot keys are hashed once. */
  readonly #owners = new Map<string, number>()
  readonly #timeline: number[] = []
  #delivered = 0
  #duplicates = 0
  #orderViolations = 0
  #foreign = 0
  #pendingDelivered = 0
  #pendingBytes = 0

  constructor(total: number, shards: readonly LedgerShard[]) {
    this.#total = total
    this.#shards = shards
    this.#tallies = shards.map((shard) => ({
      shardId: shard.shardId,
      kinesisRecords: 0,
      userRecords: 0,
      meteredBytes: 0,
      wrongShard: 0,
    }))
    this.#accepted = new Uint8Array(Math.ceil(total / 8))
  }

  /** The shard whose range holds `hashKey` (ranges cover the whole key space). */
  shardOf(hashKey: bigint): number {
    const index = this.#shards.findIndex((s) => s.startingHashKey <= hashKey && hashKey <= s.endingHashKey)
    if (index < 0) throw new RangeError(`no shard owns hash key ${hashKey}`)
    return index
  }

  /** The shard that owns a record of these keys (the explicit hash key wins, as in Kinesis). */
  ownerOf(partitionKey: string, explicitHashKey: string | undefined): number {
    if (explicitHashKey !== undefined) return this.shardOf(BigInt(explicitHashKey))
    let owner = this.#owners.get(partitionKey)
    if (owner === undefined) {
      owner = this.shardOf(md5HashKey(partitionKey))
      // Unique keys would grow the cache without a hit; start over instead.
      if (this.#owners.size >= 100_000) this.#owners.clear()
      this.#owners.set(partitionKey, owner)
    }
    return owner
  }

  /** Shard `shard` took one Kinesis record of `meteredBytes` holding `users`. */
  accept(shard: number, users: readonly AcceptedUserRecord[], meteredBytes: number): void {
    const tally = this.#tallies[shard]!
    tally.kinesisRecords++
    tally.userRecords += users.length
    tally.meteredBytes += meteredBytes
    this.#pendingBytes += meteredBytes
    for (const user of users) {
      if (this.ownerOf(user.partitionKey, user.explicitHashKey) !== shard) tally.wrongShard++
      const id = readRecordId(user.data)
      if (id === undefined || id >= this.#total) {
        this.#foreign++
        continue
      }
      const byte = id >>> 3
      const bits = this.#accepted[byte]!
      const bit = 1 << (id & 7)
      if ((bits & bit) !== 0) {
        this.#duplicates++
        continue
      }
      this.#accepted[byte] = bits | bit
      this.#delivered++
      this.#pendingDelivered++
      const highest = this.#highest.get(user.partitionKey)
      if (highest !== undefined && highest > id) this.#orderViolations++
      else this.#highest.set(user.partitionKey, id)
    }
  }

  /** Closes one request's acceptances at `now` (a point of the timeline when it delivered anything). */
  commit(now: number): void {
    if (this.#pendingDelivered === 0 && this.#pendingBytes === 0) return
    this.#timeline.push(now, this.#pendingDelivered, this.#pendingBytes)
    this.#pendingDelivered = 0
    this.#pendingBytes = 0
  }

  report(): LedgerReport {
    return {
      total: this.#total,
      delivered: this.#delivered,
      duplicates: this.#duplicates,
      orderViolations: this.#orderViolations,
      wrongShard: this.#tallies.reduce((n, t) => n + t.wrongShard, 0),
      foreign: this.#foreign,
      shards: this.#tallies.map((t) => ({ ...t })),
      accepted: this.#accepted.slice(),
      timeline: [...this.#timeline],
    }
  }
}

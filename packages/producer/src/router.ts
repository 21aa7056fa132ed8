import type { Aggregation } from './aggregation.js'
import { type KinesisRecord, type PendingUserRecord, rawKinesisRecord } from './pending.js'
import type { StreamTarget } from './stream-target.js'

export interface RouterDeps {
  readonly aggregationEnabled: boolean
  readonly aggregation: Aggregation
  /** A record that goes alone, ready to be collected. */
  readonly enqueue: (record: KinesisRecord, now: number) => void
  /** Whether records of the stream must wait for its shard map (none yet, or a stale one). */
  readonly mustWait: (target: StreamTarget) => boolean
  readonly hold: (user: PendingUserRecord) => void
}

/**
 * The shard-prediction step: a user record's hash key is looked up in its stream's shard map, and
 * the record goes to that shard's aggregate, alone, or waits for a map.
 */
export class Router {
  readonly #deps: RouterDeps

  constructor(deps: RouterDeps) {
    this.#deps = deps
  }

  place(user: PendingUserRecord, now: number): void {
    const { target } = user
    const deps = this.#deps
    if (deps.mustWait(target)) {
      // Without a map every record would go alone (the first ListShards takes a round trip); with a
      // stale one, records would land on shards whose consumers drop them.
      deps.hold(user)
      return
    }
    const shardId = target.shardFor(user.hashKey)
    if (shardId === undefined) {
      // No map yet (or a gap): send it alone and let Kinesis route it by its own key.
      target.requestRefresh()
      deps.enqueue(rawKinesisRecord(user, undefined, target.version, now), now)
      return
    }
    if (!deps.aggregationEnabled) {
      deps.enqueue(rawKinesisRecord(user, shardId, target.version, now), now)
      return
    }
    deps.aggregation.add(user, shardId, now)
  }
}

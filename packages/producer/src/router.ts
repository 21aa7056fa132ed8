import type { Dispatcher } from './dispatcher.js'
import type { Lanes } from './lanes.js'
import type { PendingUserRecord } from './pending.js'
import type { Reshard } from './reshard.js'

export interface RouterDeps {
  readonly lanes: Lanes
  readonly reshard: Reshard
  readonly dispatcher: Dispatcher
}

/**
 * The shard-prediction step: a user record's hash key is looked up in its stream's shard map and
 * the record joins the tail of that shard's lane, or is held while the stream has no usable map.
 */
export class Router {
  readonly #deps: RouterDeps

  constructor(deps: RouterDeps) {
    this.#deps = deps
  }

  place(user: PendingUserRecord, now: number): void {
    const { target } = user
    const { lanes, reshard, dispatcher } = this.#deps
    if (reshard.mustWait(target)) {
      // Without a map every record would go alone (the first ListShards takes a round trip); with a
      // stale one, records would land on shards whose consumers drop them, or overtake older records
      // of their key that are being re-routed.
      reshard.hold(user)
      return
    }
    const shardId = target.shardFor(user.hashKey, user.partitionKeySlot)
    // No map (ListShards failed) or a gap in it: the record goes alone and Kinesis routes it by its key.
    if (shardId === undefined) target.requestRefresh()
    const lane = lanes.laneFor(target, shardId, now)
    lanes.push(lane, user)
    dispatcher.added(lane, user, now)
  }
}

/** Events a KinesisConsumer emits (`consumer.on(name, listener)`). */
export interface ConsumerEvents {
  'consumer.lease_taken': { shardId: string; workerId: string }
  'consumer.lease_lost': { shardId: string; workerId: string; reason: string }
  'consumer.lease_released': { shardId: string; workerId: string }
  'consumer.shard_started': { shardId: string; workerId: string }
  'consumer.shard_ended': { shardId: string; workerId: string }
  /**
   * A held shard did not move: no consumer ran for it (`no-consumer`) or none of its reads answered
   * for shardStallTimeoutMillis (`no-progress`). The shard is restarted from its checkpoint.
   */
  'consumer.shard_stalled': {
    shardId: string
    workerId: string
    reason: 'no-consumer' | 'no-progress'
    stalledForMillis: number
    lastError: string | undefined
  }
  'consumer.processing_error': { shardId: string; error: unknown; policy: 'retry' | 'skip'; attempt: number }
}

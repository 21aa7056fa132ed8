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
  /**
   * processRecords threw. `attempt` counts the tries of those records from 0; `policy` is
   * `'dead-letter'` under the object form of processingErrorPolicy.
   */
  'consumer.processing_error': {
    shardId: string
    error: unknown
    policy: 'retry' | 'skip' | 'dead-letter'
    attempt: number
  }
  /** A record that failed alone maxAttempts times was handed to deadLetter; it counts as processed now. */
  'consumer.record_dead_lettered': {
    shardId: string
    partitionKey: string
    sequenceNumber: string
    subSequenceNumber: number
    attempts: number
    error: unknown
  }
  /** deadLetter threw: the shard backs off and calls it again for the same record (`attempt` from 0). */
  'consumer.dead_letter_failed': {
    shardId: string
    sequenceNumber: string
    subSequenceNumber: number
    attempt: number
    error: unknown
  }
}

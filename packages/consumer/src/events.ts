/** Events a KinesisConsumer emits (`consumer.on(name, listener)`). */
export interface ConsumerEvents {
  'consumer.lease_taken': { shardId: string; workerId: string }
  'consumer.lease_lost': { shardId: string; workerId: string }
  'consumer.lease_released': { shardId: string; workerId: string }
  'consumer.shard_started': { shardId: string; workerId: string }
  'consumer.shard_ended': { shardId: string; workerId: string }
  'consumer.processing_error': { shardId: string; error: unknown; policy: 'retry' | 'skip'; attempt: number }
}

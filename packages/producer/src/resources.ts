import type { KinesisClient } from '@aws-sdk/client-kinesis'
import {
  type CloudWatchMetrics,
  InMemoryMetrics,
  cloudWatchSink,
  isolatedMetrics,
  kinesisClientFrom,
} from '@kinesis-ts/shared'
import type { ResolvedProducerConfig } from './config.js'
import { PRODUCER_METRICS_NAMESPACE, ProducerMetrics } from './metrics.js'

/** What a producer opens: its Kinesis client and its metrics sinks. */
export interface ProducerResources {
  readonly kinesis: KinesisClient
  /** The client is ours (not the user's): close() destroys it. */
  readonly ownsClient: boolean
  readonly cloudWatch: CloudWatchMetrics | undefined
  /** What getMetrics() reads. */
  readonly inMemory: InMemoryMetrics
  readonly metrics: ProducerMetrics
}

export function openResources(config: ResolvedProducerConfig): ProducerResources {
  const { logger } = config
  // Before the Kinesis client: a bad cloudWatch option must not leave sockets behind.
  const cloudWatch =
    config.cloudWatch === undefined
      ? undefined
      : cloudWatchSink(
          'cloudWatch',
          config.cloudWatch,
          { namespace: PRODUCER_METRICS_NAMESPACE, region: config.region, credentials: config.credentials },
          (error) => logger.warn({ err: error }, 'CloudWatch PutMetricData failed'),
        )
  const { client, owned } = kinesisClientFrom(config.kinesisClient, {
    region: config.region,
    endpoint: config.endpoint,
    credentials: config.credentials,
    maxSockets: config.maxConnections,
    requestTimeoutMs: config.requestTimeout,
  })
  const inMemory = new InMemoryMetrics()
  // Every sink (in-memory, the user's, CloudWatch), each isolated from the others and from us: a
  // sink that throws must not strand a batch or fail a record.
  const sink = isolatedMetrics(
    [inMemory, config.metrics, ...(cloudWatch === undefined ? [] : [cloudWatch])],
    (error, suppressed) => logger.warn({ err: error, suppressed }, 'a metrics sink threw; measurement dropped'),
  )
  return { kinesis: client, ownsClient: owned, cloudWatch, inMemory, metrics: new ProducerMetrics(sink) }
}

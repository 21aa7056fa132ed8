import { ClosedError } from '@kinesis-ts/shared'
import type { RecordSourceFactory, ShardDescriptor, StartingPosition } from '../seams.js'
import { FanOutRecordSource } from './fanout-source.js'
import { type FanOutSourceOptions, resolveFanOutSourceOptions } from './options.js'
import { ensureStreamConsumer } from './register-consumer.js'

export { FanOutRecordSource, type FanOutSourceStats } from './fanout-source.js'
export { FAN_OUT_DEFAULTS, type FanOutSourceOptions, resolveFanOutSourceOptions } from './options.js'
export { StreamConsumerError, ensureStreamConsumer } from './register-consumer.js'

export interface FanOutSourceFactory extends RecordSourceFactory {
  start(signal: AbortSignal): Promise<void>
  open(shard: ShardDescriptor, position: StartingPosition): FanOutRecordSource
  stop(): Promise<void>
  /** The registered consumer's ARN once start() resolved. */
  readonly consumerARN: string | undefined
}

/**
 * Enhanced fan-out retrieval: start() registers the stream consumer (or checks the given ARN) and
 * waits until it is ACTIVE; open() gives a SubscribeToShard-backed source per leased shard.
 */
export function createFanOutSourceFactory(options: FanOutSourceOptions): FanOutSourceFactory {
  const resolved = resolveFanOutSourceOptions(options)
  let consumerARN: string | undefined
  const sources = new Set<FanOutRecordSource>()
  let stopped = false
  const arn = (): string => {
    if (consumerARN === undefined) throw new ClosedError('fan-out retrieval (start() has not completed)')
    return consumerARN
  }
  return {
    get consumerARN() {
      return consumerARN
    },
    async start(signal) {
      consumerARN = await ensureStreamConsumer(
        {
          kinesis: resolved.kinesis,
          stream: resolved,
          consumerName: resolved.consumerName,
          consumerARN: resolved.consumerARN,
          timeoutMs: resolved.registrationTimeoutMs,
          backoffBaseMs: resolved.backoffBaseMs,
          backoffMaxMs: resolved.backoffMaxMs,
          logger: resolved.logger,
        },
        signal,
      )
    },
    open(shard, position) {
      if (stopped) throw new ClosedError('fan-out retrieval')
      const source: FanOutRecordSource = new FanOutRecordSource(resolved, arn, shard, position, () =>
        sources.delete(source),
      )
      sources.add(source)
      return source
    },
    async stop() {
      stopped = true
      await Promise.all([...sources].map((source) => source.close()))
    },
  }
}

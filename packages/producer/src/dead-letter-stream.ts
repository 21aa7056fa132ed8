import {
  ConfigurationError,
  InvalidArgumentError,
  KinesisLimits,
  requiredStringOption,
  stringOption,
} from '@kinesis-ts/shared'
import { type DeadLetterSource, deadLetterEnvelope } from './dead-letter-envelope.js'
import type { KinesisProducer } from './kinesis-producer.js'

export {
  type DeadLetterEnvelope,
  type DeadLetterSource,
  originalData,
  parseDeadLetterEnvelope,
} from './dead-letter-envelope.js'

export interface DeadLetterToStreamOptions {
  /** The dead-letter stream. */
  readonly streamName: string
  /** Writes the envelopes; its own default stream does not matter. Not closed by the dead-letter function. */
  readonly producer: Pick<KinesisProducer, 'addUserRecord'>
  /** The stream the poison records come from, written into each envelope (`streamName`). */
  readonly sourceStreamName?: string | undefined
}

const encoder = new TextEncoder()

/**
 * A `deadLetter` for the consumer's `processingErrorPolicy`: each poison record goes to `streamName`
 * as a JSON envelope (see DeadLetterEnvelope) under its original partition key, so a key's dead letters
 * stay in order on one shard. Resolves once Kinesis stored the envelope; rejects when it could not
 * (the consumer then calls it again after a backoff), also for a record too big to fit in an envelope.
 */
export function deadLetterToStream(options: DeadLetterToStreamOptions): (poison: DeadLetterSource) => Promise<void> {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigurationError('options', '{ streamName, producer, sourceStreamName? }', options)
  }
  const streamName = requiredStringOption('streamName', options.streamName)
  const sourceStreamName = stringOption('sourceStreamName', options.sourceStreamName)
  const { producer } = options
  if (typeof producer?.addUserRecord !== 'function') {
    throw new ConfigurationError('producer', 'a KinesisProducer', producer)
  }
  return async (poison) => {
    const data = encoder.encode(JSON.stringify(deadLetterEnvelope(poison, sourceStreamName)))
    const bytes = data.byteLength + Buffer.byteLength(poison.record.partitionKey)
    if (bytes > KinesisLimits.maxRecordBytes) {
      throw new InvalidArgumentError(
        'data',
        `the dead-letter envelope of ${poison.shardId} ${poison.record.sequenceNumber} is ${bytes} bytes, over the ${KinesisLimits.maxRecordBytes}-byte record limit`,
      )
    }
    await producer.addUserRecord({ streamName, partitionKey: poison.record.partitionKey, data })
  }
}

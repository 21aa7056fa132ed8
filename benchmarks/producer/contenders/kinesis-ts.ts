import { KinesisProducer } from '@kinesis-ts/producer'
import { BENCH_CREDENTIALS, type Contender } from './context.js'

/**
 * `KinesisProducer` at its defaults, as a user runs it: one addUserRecord per record, its promise awaited
 * (settled into the feeder), at most the feeder's window un-awaited.
 */
export const kinesisTs =
  (preserveOrder: boolean): Contender =>
  async ({ feeder, endpoint, streamName, settleTimeoutMs }) => {
    const producer = new KinesisProducer({
      streamName,
      region: 'us-east-1',
      endpoint,
      credentials: BENCH_CREDENTIALS,
      preserveOrder,
    })
    const { workload } = feeder
    for (;;) {
      const { from, count } = feeder.take(feeder.total)
      for (let id = from; id < from + count; id++) {
        producer.addUserRecord({ partitionKey: workload.keyOf(id), data: workload.dataOf(id) }).then(
          () => feeder.succeed(id),
          () => feeder.fail(id),
        )
      }
      if (feeder.exhausted) break
      await feeder.settlement()
    }
    await feeder.allSettled(settleTimeoutMs)
    if (feeder.settled < feeder.total) producer.destroy()
    else await producer.close()
  }

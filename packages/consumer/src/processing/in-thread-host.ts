import type { ProcessorHost } from '../seams.js'
import type { ShardRecordProcessor } from '../types.js'

/** Processing in the main thread: one processor per lease, straight from the user's factory. */
export function createInThreadHost(processorFactory: () => ShardRecordProcessor): ProcessorHost {
  return {
    create: () => processorFactory(),
    close: async () => {},
  }
}

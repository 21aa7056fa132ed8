import type { RecordSourceFactory } from '../seams.js'
import { PollingRecordSource, type PollingSourceContext } from './polling-source.js'

/** Polling retrieval: one prefetching GetRecords reader per shard, nothing to set up per worker. */
export function createPollingSourceFactory(context: PollingSourceContext): RecordSourceFactory {
  return { open: (shard, position) => new PollingRecordSource(context, shard, position) }
}

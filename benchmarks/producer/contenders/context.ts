import { createKinesisClient } from '@kinesis-ts/shared'
import type { Feeder } from './feeder.js'

export interface ContenderContext {
  readonly feeder: Feeder
  readonly endpoint: string
  readonly streamName: string
  /** How long to wait for settlements once every record was handed out. */
  readonly settleTimeoutMs: number
}

export type Contender = (context: ContenderContext) => Promise<void>

export const BENCH_CREDENTIALS = { accessKeyId: 'bench', secretAccessKey: 'bench' }

/** The SDK client a peer would make: keep-alive HTTP/1.1 sockets, no hidden SDK retries (the peers retry). */
export function peerClient(context: ContenderContext, maxSockets: number) {
  return createKinesisClient({
    region: 'us-east-1',
    endpoint: context.endpoint,
    credentials: BENCH_CREDENTIALS,
    maxSockets,
  })
}

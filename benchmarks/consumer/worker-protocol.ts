/**
 * What the benchmark and its worker processes say to each other. The benchmark starts a worker with one
 * JSON argument (WorkerConfig) and writes lines to its stdin (WorkerCommand); the worker answers with one
 * JSON line per event on stdout (WorkerEvent), each stamped with its own Date.now() (same host, same clock).
 */

export interface WorkerConfig {
  readonly kinesisEndpoint: string
  readonly dynamodbEndpoint: string
  readonly streamName: string
  readonly applicationName: string
  readonly workerId: string
  /**
   * Set beyond the KCL defaults: the cost part's watch-off setting, and the KCL 3.x mode (only an explicit
   * clientVersionConfig turns it on).
   */
  readonly options?: { readonly leaseExpiryWatchIntervalMillis?: number; readonly clientVersionConfig?: '3x' }
}

/**
 * `start`: construct and start the consumer (sent once every worker has loaded, so a slow process start
 * does not let its seeded leases expire); `shutdown`: graceful shutdown(); `report`: send the DynamoDB tally.
 */
export type WorkerCommand = 'start' | 'shutdown' | 'report'

/** DynamoDB requests of one kind, as they left the client. */
export interface RequestTally {
  requests: number
  /** Answered with an error (a failed conditional write included). */
  failed: number
  /** Capacity units DynamoDB (dynalite) reported consumed (ReturnConsumedCapacity TOTAL). */
  units: number
}

/** By kind: the command name, reads suffixed with `:consistent` or `:eventual` (e.g. `Scan:eventual`). */
export type DynamoTally = Record<string, RequestTally>

export type WorkerEvent = { readonly workerId: string; readonly at: number } & (
  | { readonly type: 'ready' }
  | { readonly type: 'started' }
  | { readonly type: 'leases'; readonly leases: readonly string[] }
  | { readonly type: 'batch'; readonly shardId: string; readonly sequenceNumbers: readonly string[] }
  /** Written in shutdownRequested: the last record delivered on the shard (undefined: none was). */
  | { readonly type: 'checkpointed'; readonly shardId: string; readonly sequenceNumber: string | undefined }
  | { readonly type: 'dynamodb'; readonly tally: DynamoTally }
  | { readonly type: 'stopped' }
)

export type WorkerEventOf<T extends WorkerEvent['type']> = Extract<WorkerEvent, { type: T }>

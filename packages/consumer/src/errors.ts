import { KinesisTsError } from '@kinesis-ts/shared'

/**
 * The shard's lease is no longer ours (lost, stolen, or released on shutdown): checkpoints are
 * refused so a worker that lost a lease can never overwrite the new owner's progress.
 */
export class ShutdownError extends KinesisTsError {
  static readonly codes = new Set(['ERR_SHUTDOWN'])
  readonly shardId: string

  constructor(shardId: string, reason: string) {
    super('ERR_SHUTDOWN', `Cannot checkpoint shard ${shardId}: ${reason}`)
    this.name = 'ShutdownError'
    this.shardId = shardId
  }
}

/** A checkpoint outside [last checkpoint, last delivered record] (the Java KCL's IllegalArgumentException). */
export class InvalidCheckpointError extends KinesisTsError {
  static readonly codes = new Set(['ERR_INVALID_CHECKPOINT'])
  readonly shardId: string

  constructor(shardId: string, message: string) {
    super('ERR_INVALID_CHECKPOINT', `Invalid checkpoint for shard ${shardId}: ${message}`)
    this.name = 'InvalidCheckpointError'
    this.shardId = shardId
  }
}

/**
 * A Kinesis response lacks a field the API always sends and that cannot be made up (a record's
 * sequence number, a child shard's id or hash range). Not retriable as such: the shard is read again
 * from the last good position, so the same reply is never half taken.
 */
export class MalformedResponseError extends KinesisTsError {
  static readonly codes = new Set(['ERR_MALFORMED_RESPONSE'])

  constructor(what: string) {
    super('ERR_MALFORMED_RESPONSE', `Kinesis sent ${what}`)
    this.name = 'MalformedResponseError'
  }
}

/**
 * A KCL 3.x coordinator item (the `Migration3.0` state) changed under every conditional write this
 * worker tried in a row: other workers keep changing it. Retriable: the next start decides again.
 */
export class MigrationStateContendedError extends KinesisTsError {
  static readonly codes = new Set(['ERR_MIGRATION_STATE_CONTENDED'])

  constructor(key: string, attempts: number) {
    super('ERR_MIGRATION_STATE_CONTENDED', `${key} changed under every one of ${attempts} conditional writes`, {
      retriable: true,
    })
    this.name = 'MigrationStateContendedError'
  }
}

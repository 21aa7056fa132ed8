import { KinesisTsError } from '@kinesis-ts/shared'
import type { FailedUserRecord, UserRecordResult } from './types.js'

/**
 * A user record could not be put: `result.attempts` says why each try failed. `record` is the record
 * as the producer held it (partition key, normalized explicit hash key, a copy of the bytes sent, the
 * caller's headers object when there were headers), not the object given to addUserRecord: holding
 * that until a record settles kept the caller's data alive beside the producer's own copy.
 */
export class UserRecordFailedError extends KinesisTsError {
  static readonly codes = new Set(['ERR_USER_RECORD_FAILED'])
  readonly result: UserRecordResult
  readonly record: FailedUserRecord
  /** The last attempt's error code ('Expired', 'Destroyed', 'ResourceNotFoundException', ...). */
  readonly errorCode: string

  constructor(result: UserRecordResult, record: FailedUserRecord) {
    const last = result.attempts.at(-1)
    const errorCode = last?.errorCode ?? 'Unknown'
    super(
      'ERR_USER_RECORD_FAILED',
      `User record failed after ${result.attempts.length} attempt(s): ${errorCode}${last?.errorMessage ? ` (${last.errorMessage})` : ''}`,
    )
    this.name = 'UserRecordFailedError'
    this.result = result
    this.record = record
    this.errorCode = errorCode
  }
}

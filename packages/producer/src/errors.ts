import { KinesisTsError } from '@kinesis-ts/shared'
import type { UserRecord, UserRecordResult } from './types.js'

/** A user record could not be put: `result.attempts` says why each try failed; `record` is the caller's. */
export class UserRecordFailedError extends KinesisTsError {
  static readonly codes = new Set(['ERR_USER_RECORD_FAILED'])
  readonly result: UserRecordResult
  readonly record: UserRecord
  /** The last attempt's error code ('Expired', 'Destroyed', 'ResourceNotFoundException', ...). */
  readonly errorCode: string

  constructor(result: UserRecordResult, record: UserRecord) {
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

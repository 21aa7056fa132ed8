import { KinesisTsError } from '@kinesis-ts/shared'

/** A wrong command line: printed as one line plus a hint, never as a stack trace. */
export class UsageError extends KinesisTsError {
  static readonly codes = new Set(['ERR_USAGE'])

  constructor(message: string) {
    super('ERR_USAGE', message)
    this.name = 'UsageError'
  }
}

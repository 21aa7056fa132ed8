import { classifyError } from '@kinesis-ts/shared'

export interface EntryVerdict {
  readonly retriable: boolean
  readonly throttled: boolean
}

/**
 * What a per-record PutRecords error code means. Kinesis documents two
 * (ProvisionedThroughputExceededException, InternalFailure); anything it does not know to be
 * terminal is retried until recordTtl, because dropping a record on an unfamiliar code is worse.
 */
export function classifyEntryError(errorCode: string): EntryVerdict {
  const { retriable, throttled } = classifyError({ name: errorCode })
  if (retriable) return { retriable, throttled }
  const terminal =
    errorCode.startsWith('KMS') ||
    errorCode === 'ResourceNotFoundException' ||
    errorCode === 'AccessDeniedException' ||
    errorCode === 'ValidationException' ||
    errorCode === 'InvalidArgumentException'
  return { retriable: !terminal, throttled: false }
}

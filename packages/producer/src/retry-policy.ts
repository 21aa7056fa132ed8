import { errorVerdict } from '@kinesis-ts/shared'

export interface EntryVerdict {
  readonly retriable: boolean
  readonly throttled: boolean
}

/**
 * What a per-record PutRecords error code means: the shared error table's verdict, and one policy on
 * top of it. Kinesis documents two entry codes (ProvisionedThroughputExceededException,
 * InternalFailure) and the KMS ones; a code the table does not list is retried until recordTtl, as
 * the KPL does, because dropping a record on an unfamiliar code is worse than failing it late.
 */
export function classifyEntryError(errorCode: string): EntryVerdict {
  const verdict = errorVerdict(errorCode) ?? 'retriable'
  return { retriable: verdict !== 'terminal', throttled: verdict === 'throttled' }
}

import { ConfigurationError, booleanOption, functionOption, oneOf, requiredIntegerOption } from '@kinesis-ts/shared'
import type { ResolvedDeadLetterPolicy, ResolvedProcessingErrorPolicy } from '../config-types.js'
import { CONSUMER_DEFAULTS as D } from '../defaults.js'
import type { PoisonRecord } from '../types.js'

const OPTION = 'processingErrorPolicy'

/** `'retry'`, `'skip'` or `{ maxAttempts, bisectOnError?, deadLetter }`, each field checked by name. */
export function resolveProcessingErrorPolicy(value: unknown): ResolvedProcessingErrorPolicy {
  if (value === undefined || typeof value === 'string') {
    return oneOf(OPTION, value, ['retry', 'skip'], D.processingErrorPolicy)
  }
  if (typeof value !== 'object' || value === null) {
    throw new ConfigurationError(OPTION, "'retry', 'skip' or { maxAttempts, bisectOnError?, deadLetter }", value)
  }
  const policy = value as Record<string, unknown>
  const deadLetter = functionOption<(poison: PoisonRecord) => Promise<void> | void>(
    `${OPTION}.deadLetter`,
    policy.deadLetter,
    'a function (poison: PoisonRecord) => Promise<void> | void',
    true,
  )!
  return Object.freeze({
    maxAttempts: requiredIntegerOption(`${OPTION}.maxAttempts`, policy.maxAttempts, 1, D.maxProcessingAttempts),
    bisectOnError: booleanOption(`${OPTION}.bisectOnError`, policy.bisectOnError, D.bisectOnError),
    deadLetter,
  })
}

export function isDeadLetterPolicy(policy: ResolvedProcessingErrorPolicy): policy is ResolvedDeadLetterPolicy {
  return typeof policy === 'object'
}

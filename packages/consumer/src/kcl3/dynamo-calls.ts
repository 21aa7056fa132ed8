import { type AttributeValue, ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { toAwsCallError, withDeadline } from '@kinesis-ts/shared'

export type { AttributeValue }
export type Item = Record<string, AttributeValue>

/**
 * One bounded DynamoDB call for the KCL 3.x coordinator pieces: cut at `timeoutMs` (0: none) or when
 * `signal` aborts, failures typed as AwsCallError. The same composition as LeaseStore's, so a hung
 * request never freezes the loop that made it.
 */
export async function boundedSend<O>(
  client: DynamoDBClient,
  operation: string,
  command: object,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<O> {
  // One typed door for every command: the SDK's overloads do not accept a union of commands.
  const send = client.send.bind(client) as (command: object, options: object) => Promise<O>
  try {
    return await withDeadline(operation, timeoutMs, signal, (abortSignal) => send(command, { abortSignal }))
  } catch (error) {
    throw toAwsCallError(operation, error)
  }
}

/** By name as well as class (and through AwsCallError): a second SDK copy must not turn a failed condition into an error. */
export function isConditionFailed(error: unknown): boolean {
  if (error instanceof ConditionalCheckFailedException) return true
  const named = error as { name?: unknown; awsCode?: unknown; cause?: unknown } | undefined
  return (
    named?.name === 'ConditionalCheckFailedException' ||
    named?.awsCode === 'ConditionalCheckFailedException' ||
    (named?.cause !== undefined && named.cause !== error && isConditionFailed(named.cause))
  )
}

export const s = (value: string): AttributeValue => ({ S: value })
export const n = (value: number): AttributeValue => ({ N: String(value) })
export const str = (item: Item, name: string): string | undefined => item[name]?.S
export function num(item: Item, name: string): number | undefined {
  const raw = item[name]?.N
  if (raw === undefined) return undefined
  const value = Number(raw)
  return Number.isFinite(value) ? value : undefined
}

import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import type { DynamoTally, RequestTally } from './worker-protocol.js'

/** Data-plane reads: the ones DynamoDB bills in read units, strongly or eventually consistent. */
export const READ_COMMANDS: ReadonlySet<string> = new Set(['GetItemCommand', 'ScanCommand', 'QueryCommand'])
export const WRITE_COMMANDS: ReadonlySet<string> = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'BatchWriteItemCommand',
])

interface Capacity {
  readonly CapacityUnits?: number
}

function unitsOf(consumed: Capacity | readonly Capacity[] | undefined): number {
  if (consumed === undefined) return 0
  const all: readonly Capacity[] = Array.isArray(consumed) ? consumed : [consumed as Capacity]
  return all.reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0)
}

/** `Scan:eventual`, `GetItem:consistent`, `UpdateItem`... (the SDK's command name without `Command`). */
export function kindOf(commandName: string, consistentRead: boolean | undefined): string {
  const name = commandName.replace(/Command$/, '')
  if (!READ_COMMANDS.has(commandName)) return name
  return `${name}:${consistentRead === true ? 'consistent' : 'eventual'}`
}

/**
 * Counts every DynamoDB request the client sends, by kind, and asks DynamoDB for the capacity each one
 * consumed (ReturnConsumedCapacity TOTAL only adds that figure to the answer; the consumer reads nothing of
 * it). Counted at the initialize step, once per call of `send`: a retry the SDK makes itself (the
 * consumer allows 3 attempts) is not counted again; on loopback there are next to none.
 */
export function tallyRequests(client: DynamoDBClient): DynamoTally {
  const tally: DynamoTally = {}
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const commandName = String(context.commandName)
      const input = args.input as { ConsistentRead?: boolean }
      const kind = kindOf(commandName, input.ConsistentRead)
      const entry: RequestTally = tally[kind] ?? { requests: 0, failed: 0, units: 0 }
      tally[kind] = entry
      entry.requests++
      const billed = READ_COMMANDS.has(commandName) || WRITE_COMMANDS.has(commandName)
      const measured = billed ? { ...args, input: { ...args.input, ReturnConsumedCapacity: 'TOTAL' } } : args
      try {
        const result = await next(measured as typeof args)
        entry.units += unitsOf((result.output as { ConsumedCapacity?: Capacity | Capacity[] }).ConsumedCapacity)
        return result
      } catch (error) {
        entry.failed++
        throw error
      }
    },
    { step: 'initialize', name: 'benchDynamoDBTally' },
  )
  return tally
}

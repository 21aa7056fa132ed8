import {
  type DynamoDBClient,
  GetItemCommand,
  type GetItemCommandOutput,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb'
import type { CoordinatorLayout, ItemTable } from './contracts.js'
import { type AttributeValue, type Item, boundedSend, isConditionFailed, s } from './dynamo-calls.js'

/** The `entityType` of each coordinator item (Java `EntityType`); in the lease table it keeps them out of lease scans. */
export const CoordinatorEntityType = {
  leader: 'LEADER',
  clientVersionMigration: 'CLIENT_VERSION_MIGRATION',
  tableMigration: 'TABLE_MIGRATION',
} as const
export type CoordinatorEntityType = (typeof CoordinatorEntityType)[keyof typeof CoordinatorEntityType]

export const ENTITY_TYPE_ATTRIBUTE = 'entityType'

/** One coordinator item as read: its key, the table it came from, and its attributes without the key. */
export interface CoordinatorItem {
  readonly key: string
  readonly table: ItemTable
  readonly attributes: Item
}

/**
 * Reads and writes coordinator items (migration state, table-migration state) across the layout
 * fixed at start-up, as Java's CoordinatorStateDAO does: a read tries the layout's read tables in
 * order (legacy first until the table migration is COMPLETE), every write goes to the one write table,
 * each table with its own key attribute. Reads are consistent; writes are conditional and answer
 * false, not an error, when the condition fails. Every call is bounded by `timeoutMs`.
 */
export class CoordinatorStateStore {
  readonly #dynamodb: DynamoDBClient
  readonly #layout: CoordinatorLayout
  readonly #timeoutMs: number

  constructor(dynamodb: DynamoDBClient, layout: CoordinatorLayout, timeoutMs: number) {
    this.#dynamodb = dynamodb
    this.#layout = layout
    this.#timeoutMs = timeoutMs
  }

  get layout(): CoordinatorLayout {
    return this.#layout
  }

  /** The item, from the first read table that has it. */
  async get(key: string, signal?: AbortSignal): Promise<CoordinatorItem | undefined> {
    for (const table of this.#layout.coordinatorStateRead) {
      const { Item: found } = await boundedSend<GetItemCommandOutput>(
        this.#dynamodb,
        'GetItem',
        new GetItemCommand({ TableName: table.tableName, Key: { [table.keyAttribute]: s(key) }, ConsistentRead: true }),
        this.#timeoutMs,
        signal,
      )
      if (found !== undefined) {
        const { [table.keyAttribute]: _key, ...attributes } = found
        return { key, table, attributes }
      }
    }
    return undefined
  }

  /** Creates the item unless one with this key exists in the write table; true when this call created it. */
  async create(
    key: string,
    entityType: CoordinatorEntityType,
    attributes: Item,
    signal?: AbortSignal,
  ): Promise<boolean> {
    const table = this.#layout.coordinatorStateWrite
    const command = new PutItemCommand({
      TableName: table.tableName,
      Item: { ...attributes, [ENTITY_TYPE_ATTRIBUTE]: s(entityType), [table.keyAttribute]: s(key) },
      ConditionExpression: 'attribute_not_exists(#key)',
      ExpressionAttributeNames: { '#key': table.keyAttribute },
    })
    return this.#conditional('PutItem', command, signal)
  }

  /**
   * Sets `set` (and entityType) on the existing item, only while every attribute of `expect` holds
   * the given value; true when written.
   */
  async update(
    key: string,
    entityType: CoordinatorEntityType,
    set: Item,
    expect: Readonly<Record<string, AttributeValue>>,
    signal?: AbortSignal,
  ): Promise<boolean> {
    const table = this.#layout.coordinatorStateWrite
    const names: Record<string, string> = { '#key': table.keyAttribute }
    const values: Record<string, AttributeValue> = {}
    let i = 0
    const placeholder = (name: string, value: AttributeValue) => {
      const id = i++
      names[`#a${id}`] = name
      values[`:v${id}`] = value
      return [`#a${id}`, `:v${id}`] as const
    }
    const sets = Object.entries({ ...set, [ENTITY_TYPE_ATTRIBUTE]: s(entityType) }).map(([name, value]) => {
      const [n, v] = placeholder(name, value)
      return `${n} = ${v}`
    })
    const conditions = ['attribute_exists(#key)']
    for (const [name, value] of Object.entries(expect)) {
      const [n, v] = placeholder(name, value)
      conditions.push(`${n} = ${v}`)
    }
    const command = new UpdateItemCommand({
      TableName: table.tableName,
      Key: { [table.keyAttribute]: s(key) },
      UpdateExpression: `SET ${sets.join(', ')}`,
      ConditionExpression: conditions.join(' AND '),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    })
    return this.#conditional('UpdateItem', command, signal)
  }

  async #conditional(operation: string, command: object, signal: AbortSignal | undefined): Promise<boolean> {
    try {
      await boundedSend(this.#dynamodb, operation, command, this.#timeoutMs, signal)
      return true
    } catch (error) {
      if (isConditionFailed(error)) return false
      throw error
    }
  }
}

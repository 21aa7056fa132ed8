import {
  type AttributeValue,
  DeleteItemCommand,
  type DynamoDBClient,
  ScanCommand,
  type ScanCommandOutput,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb'
import type { ItemTable, WorkerMetricStats, WorkerMetricStatsReader } from './contracts.js'
import { boundedSend, isConditionFailed } from './dynamo-calls.js'

type Item = Record<string, AttributeValue>

/** The Java `WorkerMetricStats` attribute names (J/worker/metricstats/WorkerMetricStats.java). */
export const WORKER_METRIC_STATS_ATTRIBUTES = Object.freeze({
  entityType: 'entityType',
  lastUpdateTime: 'lut',
  metricStats: 'sts',
  operatingRange: 'opr',
  supportCode: 'sup',
  supportLastUpdateTime: 'slu',
})

/** The `entityType` of a metrics item (J/leases/EntityType.java); 3.5 writes it to both table kinds. */
export const WORKER_METRIC_STATS_ENTITY_TYPE = 'WORKER_METRIC_STATS'

/** `staleWorkerMetricsEntryCleanupDuration`: items not reported for a day are deleted by the leader. */
export const STALE_WORKER_METRICS_CLEANUP_MS = 24 * 60 * 60 * 1000

const A = WORKER_METRIC_STATS_ATTRIBUTES

/** A number list the way the Java enhanced client stores `List<Double>` / `List<Long>`: L of N. */
function numberList(values: readonly number[]): AttributeValue {
  return { L: values.map((value) => ({ N: String(value) })) }
}

function numberMap(map: Readonly<Record<string, readonly number[]>>): AttributeValue {
  return { M: Object.fromEntries(Object.entries(map).map(([name, values]) => [name, numberList(values)])) }
}

function readNumber(value: AttributeValue | undefined): number | undefined {
  if (value?.N === undefined) return undefined
  const parsed = Number(value.N)
  return Number.isFinite(parsed) ? parsed : undefined
}

/** `undefined` when the attribute is absent: the leader counts such an item as invalid, not as empty. */
function readNumberMap(value: AttributeValue | undefined): Record<string, number[]> | undefined {
  if (value?.M === undefined) return undefined
  const out: Record<string, number[]> = {}
  for (const [name, list] of Object.entries(value.M)) {
    out[name] = (list.L ?? []).map(readNumber).filter((n): n is number => n !== undefined)
  }
  return out
}

/**
 * One worker's metrics item, read from either table kind. Items without `lut` are kept with
 * `lastUpdateTimeSeconds` NaN so the leader can judge them invalid (and stale) as Java does.
 */
export function workerMetricStatsFromItem(item: Item, keyAttribute: string): WorkerMetricStats | undefined {
  const workerId = item[keyAttribute]?.S
  if (workerId === undefined) return undefined
  const metricStats = readNumberMap(item[A.metricStats])
  const operatingRange = readNumberMap(item[A.operatingRange])
  const supportCode = readNumber(item[A.supportCode])
  const supportLastUpdateTimeSeconds = readNumber(item[A.supportLastUpdateTime])
  return {
    workerId,
    lastUpdateTimeSeconds: readNumber(item[A.lastUpdateTime]) ?? Number.NaN,
    // Absent maps read as empty; `lacksMetricMaps` keeps the difference for the validity rule.
    metricStats: metricStats ?? {},
    operatingRange: operatingRange ?? {},
    ...(metricStats === undefined || operatingRange === undefined ? { lacksMetricMaps: true } : {}),
    ...(supportCode === undefined ? {} : { supportCode }),
    ...(supportLastUpdateTimeSeconds === undefined ? {} : { supportLastUpdateTimeSeconds }),
  }
}

/** The SET attributes of a report: every non-null field, as the Java enhanced client's `ignoreNulls` update. */
export function workerMetricStatsToAttributes(stats: WorkerMetricStats): Item {
  return {
    [A.entityType]: { S: WORKER_METRIC_STATS_ENTITY_TYPE },
    [A.lastUpdateTime]: { N: String(stats.lastUpdateTimeSeconds) },
    [A.metricStats]: numberMap(stats.metricStats),
    [A.operatingRange]: numberMap(stats.operatingRange),
    ...(stats.supportCode === undefined ? {} : { [A.supportCode]: { N: String(stats.supportCode) } }),
    ...(stats.supportLastUpdateTimeSeconds === undefined
      ? {}
      : { [A.supportLastUpdateTime]: { N: String(stats.supportLastUpdateTimeSeconds) } }),
  }
}

export interface WorkerMetricStatsStoreOptions {
  readonly client: DynamoDBClient
  /** Where this worker's report goes (the layout's `workerMetricsWrite`). */
  readonly writeTable: ItemTable
  /** Where every worker's item is read, legacy first (the layout's `workerMetricsRead`). */
  readonly readTables: readonly ItemTable[]
  /** Bounds every call (0: none), so one hung request cannot freeze the reporter or the leader. */
  readonly timeoutMs: number
}

/**
 * Reads and writes `WorkerMetricStats` items in the Java schema, in the lease table (`leaseKey`,
 * told apart by `entityType`) or the legacy `<app>-WorkerMetricStats` table (`wid`).
 */
export class WorkerMetricStatsStore implements WorkerMetricStatsReader {
  readonly #options: WorkerMetricStatsStoreOptions

  constructor(options: WorkerMetricStatsStoreOptions) {
    this.#options = options
  }

  /** UpdateItem SET of the report, no condition: a worker's item is written by that worker only. */
  async write(stats: WorkerMetricStats, signal?: AbortSignal): Promise<void> {
    const { tableName, keyAttribute } = this.#options.writeTable
    const attributes = workerMetricStatsToAttributes(stats)
    const names: Record<string, string> = {}
    const values: Item = {}
    const sets = Object.entries(attributes).map(([name, value], i) => {
      names[`#a${i}`] = name
      values[`:v${i}`] = value
      return `#a${i} = :v${i}`
    })
    await this.#send(
      'UpdateItem',
      new UpdateItemCommand({
        TableName: tableName,
        Key: { [keyAttribute]: { S: stats.workerId } },
        UpdateExpression: `SET ${sets.join(', ')}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
      signal,
    )
  }

  /**
   * Every item of every read table, legacy table first, not merged: during a table migration a
   * worker may have one in each, and the reader decides which is current (Java's
   * WorkerMetricStatsDAO.getAllWorkerMetricStats returns both too). Scans are eventually consistent,
   * as the Java enhanced client's scan.
   */
  async list(signal: AbortSignal): Promise<WorkerMetricStats[]> {
    const out: WorkerMetricStats[] = []
    for (const table of this.#options.readTables) out.push(...(await this.listTable(table, signal)))
    return out
  }

  async listTable(table: ItemTable, signal?: AbortSignal): Promise<WorkerMetricStats[]> {
    const out: WorkerMetricStats[] = []
    let startKey: Item | undefined
    do {
      const filter = table.sharedWithLeases
        ? {
            FilterExpression: '#et = :et',
            ExpressionAttributeNames: { '#et': A.entityType },
            ExpressionAttributeValues: { ':et': { S: WORKER_METRIC_STATS_ENTITY_TYPE } },
          }
        : {}
      const page = await this.#send<ScanCommandOutput>(
        'Scan',
        new ScanCommand({ TableName: table.tableName, ExclusiveStartKey: startKey, ...filter }),
        signal,
      )
      for (const item of page.Items ?? []) {
        const stats = workerMetricStatsFromItem(item, table.keyAttribute)
        if (stats !== undefined) out.push(stats)
      }
      startKey = page.LastEvaluatedKey
    } while (startKey !== undefined)
    return out
  }

  /**
   * Deletes an item the leader judged stale, only while its `lut` is still the one judged (the
   * worker may have come back) and the item exists; true when deleted.
   */
  async deleteStale(table: ItemTable, stats: WorkerMetricStats, signal?: AbortSignal): Promise<boolean> {
    if (!Number.isFinite(stats.lastUpdateTimeSeconds)) return false
    try {
      await this.#send(
        'DeleteItem',
        new DeleteItemCommand({
          TableName: table.tableName,
          Key: { [table.keyAttribute]: { S: stats.workerId } },
          ConditionExpression: '#lut = :lut AND attribute_exists(#k)',
          ExpressionAttributeNames: { '#lut': A.lastUpdateTime, '#k': table.keyAttribute },
          ExpressionAttributeValues: { ':lut': { N: String(stats.lastUpdateTimeSeconds) } },
        }),
        signal,
      )
      return true
    } catch (error) {
      if (isConditionFailed(error)) return false
      throw error
    }
  }

  #send<O>(operation: string, command: object, signal?: AbortSignal): Promise<O> {
    return boundedSend<O>(this.#options.client, operation, command, this.#options.timeoutMs, signal)
  }
}

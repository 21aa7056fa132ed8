import {
  type AttributeValue,
  CreateTableCommand,
  type DynamoDBClient,
  UpdateItemCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb'

/*
 * WorkerMetricStats items written exactly as the Java KCL 3.5.1 writes them, so our reader is tested
 * against Java's bytes rather than against our own writer. Sources (awslabs/amazon-kinesis-client
 * v3.5.1, J/ = amazon-kinesis-client/src/main/java/software/amazon/kinesis/):
 * - the item: J/worker/metricstats/WorkerMetricStats.java (attributes entityType, lut, sts, opr, sup,
 *   slu; `wid` in LegacyWorkerMetricStats, `leaseKey` in LeaseTableWorkerMetricStats);
 * - the values: J/worker/metricstats/WorkerMetricStatsReporter.java (lut and slu = Instant.now()
 *   epoch seconds, sup = WorkerMetricStats.SUPPORT_CODE = 1) and WorkerMetricStatsManager.java
 *   (sts = last 10 report averages, 6 decimals, −1 when nothing was captured; opr = [maxUtilization]);
 * - the request: J/worker/metricstats/delegate/WorkerMetricStatsDAODelegate.java updateMetrics, an
 *   enhanced-client updateItem with ignoreNulls(true) and no condition. The enhanced client
 *   (aws-sdk-java-v2 dynamodb-enhanced UpdateItemOperation) sends one SET per non-null, non-key
 *   attribute, named `#AMZN_MAPPED_<attr>` = `:AMZN_MAPPED_<attr>`, with ReturnValues ALL_NEW;
 *   Double fields are written by Double.toString (90.0, -1.0), Long fields as integers.
 * - the legacy table: v3.4.3 J/worker/metricstats/WorkerMetricStatsDAO.java creates
 *   `<app>-WorkerMetricStats`, hash key `wid` S, PAY_PER_REQUEST.
 */

/** What a Java 3.5.1 worker on EC2 reports: CPU `C` with range 100 (LinuxCpuWorkerMetric's default). */
export interface JavaMetricsReport {
  readonly workerId: string
  readonly lutSeconds: number
  /** Report averages as Java holds them (doubles); written with Double.toString. */
  readonly sts: Readonly<Record<string, readonly number[]>>
  readonly opr: Readonly<Record<string, readonly number[]>>
  /** 3.5 always sends sup 1 and slu = lut (WorkerMetricStatsReporter.run). */
  readonly withSupportCode?: boolean
}

/** Java's Double.toString for the values a report holds: always a decimal point (90 → "90.0"). */
function javaDouble(value: number): string {
  return Number.isInteger(value) ? `${value}.0` : String(value)
}

function javaDoubleList(values: readonly number[]): AttributeValue {
  return { L: values.map((v) => ({ N: javaDouble(v) })) }
}

function javaLongList(values: readonly number[]): AttributeValue {
  return { L: values.map((v) => ({ N: String(Math.trunc(v)) })) }
}

/** WorkerMetricStatsDAODelegate.updateMetrics through the enhanced client, into either table kind. */
export async function javaUpdateMetrics(
  client: DynamoDBClient,
  table: { readonly tableName: string; readonly keyAttribute: string },
  report: JavaMetricsReport,
): Promise<void> {
  const attributes: Record<string, AttributeValue> = {
    entityType: { S: 'WORKER_METRIC_STATS' },
    lut: { N: String(report.lutSeconds) },
    opr: { M: Object.fromEntries(Object.entries(report.opr).map(([k, v]) => [k, javaLongList(v)])) },
    sts: { M: Object.fromEntries(Object.entries(report.sts).map(([k, v]) => [k, javaDoubleList(v)])) },
    ...(report.withSupportCode === false ? {} : { sup: { N: '1' }, slu: { N: String(report.lutSeconds) } }),
  }
  await sendEnhancedUpdate(client, table, report.workerId, attributes)
}

/** The request of the enhanced client's UpdateItemOperation: one SET per attribute, no condition. */
async function sendEnhancedUpdate(
  client: DynamoDBClient,
  table: { readonly tableName: string; readonly keyAttribute: string },
  key: string,
  attributes: Record<string, AttributeValue>,
): Promise<void> {
  const names: Record<string, string> = {}
  const values: Record<string, AttributeValue> = {}
  const sets: string[] = []
  for (const [name, value] of Object.entries(attributes)) {
    names[`#AMZN_MAPPED_${name}`] = name
    values[`:AMZN_MAPPED_${name}`] = value
    sets.push(`#AMZN_MAPPED_${name} = :AMZN_MAPPED_${name}`)
  }
  await client.send(
    new UpdateItemCommand({
      TableName: table.tableName,
      Key: { [table.keyAttribute]: { S: key } },
      UpdateExpression: `SET ${sets.join(', ')}`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ReturnValues: 'ALL_NEW',
    }),
  )
}

/**
 * A report of a 3.0–3.4 worker into the legacy table: the same enhanced-client updateItem with
 * ignoreNulls (v3.4.3 J/worker/metricstats/WorkerMetricStatsDAO.java updateMetrics), but the 3.4 model
 * has no entityType, sup or slu (v3.4.3 WorkerMetricStats.java: wid, lut, sts, opr, properties).
 */
export async function java34UpdateLegacyMetrics(
  client: DynamoDBClient,
  tableName: string,
  report: Omit<JavaMetricsReport, 'withSupportCode'>,
): Promise<void> {
  await sendEnhancedUpdate(client, { tableName, keyAttribute: 'wid' }, report.workerId, {
    lut: { N: String(report.lutSeconds) },
    opr: { M: Object.fromEntries(Object.entries(report.opr).map(([k, v]) => [k, javaLongList(v)])) },
    sts: { M: Object.fromEntries(Object.entries(report.sts).map(([k, v]) => [k, javaDoubleList(v)])) },
  })
}

/** v3.4.3 WorkerMetricStatsDAO.initialize: `<app>-WorkerMetricStats`, hash key `wid`, on demand. */
export async function javaCreateLegacyWorkerMetricsTable(client: DynamoDBClient, tableName: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [{ AttributeName: 'wid', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'wid', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  )
  // Java waits for ACTIVE too (DdbUtil / the DAO's initialize); dynalite creates in the background.
  await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 0.05, maxDelay: 0.2 }, { TableName: tableName })
}

/**
 * The owner's renewal (J/leases/dynamodb/DynamoDBLeaseRefresher.java renewLease, legacy API): PUT
 * leaseCounter = c + 1 and throughputKBps when measured, Expected leaseCounter = c. During a graceful
 * handoff the old owner renews this way too, without the checkpointOwner expectation, while
 * checkpointOwner names it (J/leases/dynamodb/DynamoDBLeaseRenewer.java). False when the counter moved.
 */
export async function javaRenewLease(
  client: DynamoDBClient,
  tableName: string,
  lease: { readonly leaseKey: string; readonly leaseCounter: number },
  throughputKBps?: number,
): Promise<boolean> {
  try {
    await client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: { leaseKey: { S: lease.leaseKey } },
        AttributeUpdates: {
          leaseCounter: { Action: 'PUT', Value: { N: String(lease.leaseCounter + 1) } },
          ...(throughputKBps === undefined
            ? {}
            : { throughputKBps: { Action: 'PUT', Value: { N: throughputKBps.toFixed(6) } } }),
        },
        Expected: { leaseCounter: { Value: { N: String(lease.leaseCounter) } } },
      }),
    )
    return true
  } catch (error) {
    if ((error as Error).name === 'ConditionalCheckFailedException') return false
    throw error
  }
}

/**
 * The seams between the KCL 3.x pieces (coordinator state and leader election, worker metrics and
 * lease assignment, the worker's 3.x mode), fixed first so each piece can be built against them.
 * Facts: the Java KCL 3.5.1 (see the consumer README, "KCL 3.x").
 */

/** Where one kind of coordinator item lives: a table and the name of its hash key. */
export interface ItemTable {
  readonly tableName: string
  /** `leaseKey` in the lease table, `key` in `<app>-CoordinatorState`, `wid` in `<app>-WorkerMetricStats`. */
  readonly keyAttribute: string
  /** True for the lease table: items are told apart by `entityType` (reads filter on it). */
  readonly sharedWithLeases: boolean
}

/** The Java `TableMigration3.5` status; `COMPLETE` also stands for the single-table layout. */
export type TableMigrationStatus = 'INIT' | 'DEPLOYED' | 'PENDING' | 'COMPLETE'

/** Which tables this worker reads and writes for coordinator state and worker metrics, fixed at start-up. */
export interface CoordinatorLayout {
  readonly kind: 'single' | 'legacy'
  readonly tableMigrationStatus: TableMigrationStatus
  /** Where coordinator items (migration state) are written. */
  readonly coordinatorStateWrite: ItemTable
  /** Where they are read, in order (legacy first until COMPLETE). */
  readonly coordinatorStateRead: readonly ItemTable[]
  /** The table of the leader lock (item `Leader`). */
  readonly leaderLock: ItemTable
  readonly workerMetricsWrite: ItemTable
  readonly workerMetricsRead: readonly ItemTable[]
}

/** Answers whether this worker is the elected leader (the Java `LeaderDecider`). */
export interface LeaderDecider {
  /** May read or acquire the lock; every call bounded by the DynamoDB request timeout. */
  isLeader(signal: AbortSignal): Promise<boolean>
  /**
   * Gives the lock up if held (Java releaseLeadershipIfHeld): the lease assignment manager calls it
   * after failing 3 runs in a row, so a healthier worker can lead.
   */
  releaseLeadershipIfHeld?(signal: AbortSignal): Promise<void>
  /**
   * kinesis-ts: true while this worker follows a leader that promised a fast lease (a TypeScript
   * leader): it may take over within failoverTimeMillis of that leader's crash, so it watches the
   * lease counters meanwhile to judge the dead leader's leases at once.
   */
  readonly followsFastLeader?: boolean
}

/** The stored Java `ClientVersion` of the `Migration3.0` item (`CLIENT_VERSION_INIT` is never stored). */
export type ClientVersion =
  | 'CLIENT_VERSION_INIT'
  | 'CLIENT_VERSION_UPGRADE_FROM_2X'
  | 'CLIENT_VERSION_2X'
  | 'CLIENT_VERSION_3X_WITH_ROLLBACK'
  | 'CLIENT_VERSION_3X'

/** One worker's `WorkerMetricStats` item, as Java writes it. */
export interface WorkerMetricStats {
  readonly workerId: string
  /** `lut`: epoch seconds of the last report. */
  readonly lastUpdateTimeSeconds: number
  /** `sts`: metric short name (C, M, NI, NO, T) → the last report averages, −1 = capture failed. */
  readonly metricStats: Readonly<Record<string, readonly number[]>>
  /** `opr`: metric short name → [max utilization, ...]. */
  readonly operatingRange: Readonly<Record<string, readonly number[]>>
  /** `sup` / `slu` (3.5+): support code (1 = single-table migration) and its heartbeat, epoch seconds. */
  readonly supportCode?: number
  readonly supportLastUpdateTimeSeconds?: number
  /**
   * Set when read from an item without `sts` or `opr` (Java: null maps): such an item is invalid
   * unless both are absent (the default metric). Never written.
   */
  readonly lacksMetricMaps?: boolean
}

export interface WorkerMetricStatsReader {
  /** Every worker's item, merged over the layout's read tables (legacy first). */
  list(signal: AbortSignal): Promise<WorkerMetricStats[]>
}

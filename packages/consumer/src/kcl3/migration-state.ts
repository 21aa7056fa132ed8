import { ConfigurationError, retry } from '@kinesis-ts/shared'
import { MigrationStateContendedError } from '../errors.js'
import type { ClientVersion } from './contracts.js'
import { CoordinatorEntityType, type CoordinatorStateStore } from './coordinator-state-store.js'
import { type AttributeValue, type Item, n, num, s, str } from './dynamo-calls.js'

/*
 * The `Migration3.0` coordinator item through which a Java fleet moves from KCL 2.x to 3.x
 * (Java MigrationState, MigrationClientVersionStateInitializer): every worker reads it at start-up,
 * follows it while running, and changes it only conditionally on the version it read.
 */

export const MIGRATION_KEY = 'Migration3.0'
export const MIGRATION_ATTRIBUTES = {
  clientVersion: 'cv',
  modifiedBy: 'mb',
  modifiedTimestamp: 'mts',
  history: 'h',
} as const
const A = MIGRATION_ATTRIBUTES
/** Java MigrationState MAX_HISTORY_ENTRIES. */
export const MAX_HISTORY_ENTRIES = 10

/** The Java `ClientVersionConfig` values, camelCased. */
export type ClientVersionConfig = '3x' | 'compatibleWith2x' | 'compatibleWith2xPhase1'
export const CLIENT_VERSION_CONFIGS: readonly ClientVersionConfig[] = [
  '3x',
  'compatibleWith2x',
  'compatibleWith2xPhase1',
]

export type StoredClientVersion = Exclude<ClientVersion, 'CLIENT_VERSION_INIT'>
const STORED_VERSIONS: readonly StoredClientVersion[] = [
  'CLIENT_VERSION_UPGRADE_FROM_2X',
  'CLIENT_VERSION_2X',
  'CLIENT_VERSION_3X_WITH_ROLLBACK',
  'CLIENT_VERSION_3X',
]

export interface MigrationHistoryEntry {
  /** As stored: a ClientVersion name, kept verbatim (KclMigrationTool.py writes 'Unknown' for a missing one). */
  readonly clientVersion: string
  readonly modifiedBy: string
  readonly modifiedTimestamp: number
}

export interface MigrationState {
  readonly clientVersion: StoredClientVersion
  readonly modifiedBy: string
  /** `mts`: epoch milliseconds. */
  readonly modifiedTimestamp: number
  /** Previous states, newest first, at most MAX_HISTORY_ENTRIES. */
  readonly history: readonly MigrationHistoryEntry[]
}

/** A `Migration3.0` item this worker cannot follow: refused with what was found. */
function unknownState(found: unknown): ConfigurationError {
  return new ConfigurationError(
    'clientVersionConfig',
    `an application whose ${MIGRATION_KEY} item has ${A.clientVersion} one of ${STORED_VERSIONS.join(', ')}`,
    found,
  )
}

/**
 * Reads the item's attributes. Recognised by key, not by entityType: items older than 3.5 have none
 * (or another spelling). A `cv` this worker does not know is refused.
 */
export function migrationStateFromItem(attributes: Item): MigrationState {
  const clientVersion = str(attributes, A.clientVersion)
  if (clientVersion === undefined || !(STORED_VERSIONS as readonly string[]).includes(clientVersion)) {
    throw unknownState(clientVersion ?? `(no ${A.clientVersion} attribute)`)
  }
  const history: MigrationHistoryEntry[] = []
  for (const entry of attributes[A.history]?.L ?? []) {
    const fields = entry.M ?? {}
    const cv = str(fields, A.clientVersion)
    if (cv === undefined) continue
    history.push({
      clientVersion: cv,
      modifiedBy: str(fields, A.modifiedBy) ?? '',
      modifiedTimestamp: num(fields, A.modifiedTimestamp) ?? 0,
    })
  }
  return {
    clientVersion: clientVersion as StoredClientVersion,
    modifiedBy: str(attributes, A.modifiedBy) ?? '',
    modifiedTimestamp: num(attributes, A.modifiedTimestamp) ?? 0,
    history,
  }
}

const historyEntryValue = (entry: MigrationHistoryEntry): AttributeValue => ({
  M: {
    [A.clientVersion]: s(entry.clientVersion),
    [A.modifiedBy]: s(entry.modifiedBy),
    [A.modifiedTimestamp]: n(entry.modifiedTimestamp),
  },
})

/** The attributes Java writes (entityType is added by the store). `h` only when there is history. */
export function migrationStateToItem(state: MigrationState): Item {
  const item: Item = {
    [A.clientVersion]: s(state.clientVersion),
    [A.modifiedBy]: s(state.modifiedBy),
    [A.modifiedTimestamp]: n(state.modifiedTimestamp),
  }
  if (state.history.length > 0) item[A.history] = { L: state.history.map(historyEntryValue) }
  return item
}

/** The state after a change: the old one pushed on the history (newest first, the oldest dropped past 10). */
export function advanceMigrationState(
  previous: MigrationHistoryEntry,
  history: readonly MigrationHistoryEntry[],
  next: StoredClientVersion,
  modifiedBy: string,
  nowMs: number,
): MigrationState {
  return {
    clientVersion: next,
    modifiedBy,
    modifiedTimestamp: nowMs,
    history: [previous, ...history].slice(0, MAX_HISTORY_ENTRIES),
  }
}

/**
 * The version a worker starts in (Java MigrationClientVersionStateInitializer, 3.5.1): with no item,
 * the config decides (compatibleWith2xPhase1 stays INIT and writes nothing); a stored 3X_WITH_ROLLBACK
 * is finished to 3X by a worker configured for 3x; otherwise the stored version wins whatever the config.
 */
export function startClientVersion(
  config: ClientVersionConfig,
  stored: StoredClientVersion | undefined,
): ClientVersion {
  if (stored === undefined) {
    if (config === 'compatibleWith2xPhase1') return 'CLIENT_VERSION_INIT'
    return config === '3x' ? 'CLIENT_VERSION_3X' : 'CLIENT_VERSION_UPGRADE_FROM_2X'
  }
  if (stored === 'CLIENT_VERSION_3X_WITH_ROLLBACK' && config === '3x') return 'CLIENT_VERSION_3X'
  return stored
}

export interface MigrationStart {
  readonly clientVersion: ClientVersion
  /** The item as it now stands; undefined when there is none (compatibleWith2xPhase1 writes none). */
  readonly state: MigrationState | undefined
}

export async function readMigrationState(
  store: CoordinatorStateStore,
  signal?: AbortSignal,
): Promise<MigrationState | undefined> {
  const item = await store.get(MIGRATION_KEY, signal)
  return item === undefined ? undefined : migrationStateFromItem(item.attributes)
}

/** Java MigrationClientVersionStateInitializer: 10 tries, about a second apart. */
const INITIALIZATION_ATTEMPTS = 10
const INITIALIZATION_RETRY_DELAY_MS = 1_000

/**
 * Decides the start version and writes it as Java does: creates the item when absent, or updates it
 * conditionally on the version read. A lost race re-reads and decides again; a retriable DynamoDB
 * failure is tried again after `retryDelayMs` (both: 10 tries, as Java). An unknown stored `cv` is
 * refused at once.
 */
export async function initializeMigrationState(options: {
  readonly store: CoordinatorStateStore
  readonly config: ClientVersionConfig
  readonly workerId: string
  readonly signal?: AbortSignal | undefined
  readonly nowMs?: () => number
  readonly retryDelayMs?: number
}): Promise<MigrationStart> {
  const { store, config, workerId, signal } = options
  const nowMs = options.nowMs ?? Date.now
  const delayMs = options.retryDelayMs ?? INITIALIZATION_RETRY_DELAY_MS
  const patiently = <T>(call: () => Promise<T>) =>
    retry(call, { signal, maxAttempts: INITIALIZATION_ATTEMPTS, baseMs: delayMs, maxMs: delayMs, jitter: 'none' })
  const attempts = INITIALIZATION_ATTEMPTS
  for (let attempt = 0; attempt < attempts; attempt++) {
    const stored = await patiently(() => readMigrationState(store, signal))
    const clientVersion = startClientVersion(config, stored?.clientVersion)
    if (clientVersion === 'CLIENT_VERSION_INIT' || clientVersion === stored?.clientVersion) {
      return { clientVersion, state: stored }
    }
    if (stored === undefined) {
      // Java's new item already carries one history entry: the INIT state it was built from.
      const now = nowMs()
      const created = advanceMigrationState(
        { clientVersion: 'CLIENT_VERSION_INIT', modifiedBy: workerId, modifiedTimestamp: now },
        [],
        clientVersion,
        workerId,
        now,
      )
      const item = migrationStateToItem(created)
      // A retried create that had landed fails its condition: the next read then finds our own item.
      if (
        await patiently(() => store.create(MIGRATION_KEY, CoordinatorEntityType.clientVersionMigration, item, signal))
      ) {
        return { clientVersion, state: created }
      }
      continue
    }
    const now = nowMs()
    const changed = await patiently(() =>
      changeClientVersion({ store, from: stored, to: clientVersion, modifiedBy: workerId, nowMs: now, signal }),
    )
    if (changed !== undefined) return { clientVersion, state: changed }
  }
  throw new MigrationStateContendedError(MIGRATION_KEY, attempts)
}

/** Sets `cv` from `from.clientVersion` to `to`, only if it still is `from`; the new state, or undefined if it was not. */
export async function changeClientVersion(options: {
  readonly store: CoordinatorStateStore
  readonly from: MigrationState
  readonly to: StoredClientVersion
  readonly modifiedBy: string
  readonly nowMs: number
  readonly signal?: AbortSignal | undefined
}): Promise<MigrationState | undefined> {
  const { store, from, to, modifiedBy, nowMs, signal } = options
  const next = advanceMigrationState(
    { clientVersion: from.clientVersion, modifiedBy: from.modifiedBy, modifiedTimestamp: from.modifiedTimestamp },
    from.history,
    to,
    modifiedBy,
    nowMs,
  )
  const written = await store.update(
    MIGRATION_KEY,
    CoordinatorEntityType.clientVersionMigration,
    migrationStateToItem(next),
    { [A.clientVersion]: s(from.clientVersion) },
    signal,
  )
  return written ? next : undefined
}

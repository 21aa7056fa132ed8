import { ConfigurationError } from '@kinesis-ts/shared'
import { describe, expect, it } from 'vitest'
import type { ClientVersion } from './contracts.js'
import {
  type ClientVersionConfig,
  MAX_HISTORY_ENTRIES,
  type StoredClientVersion,
  advanceMigrationState,
  migrationStateFromItem,
  migrationStateToItem,
  startClientVersion,
} from './migration-state.js'

describe('startClientVersion (Java MigrationClientVersionStateInitializer, 3.5.1)', () => {
  it.each([
    ['3x', undefined, 'CLIENT_VERSION_3X'],
    ['compatibleWith2x', undefined, 'CLIENT_VERSION_UPGRADE_FROM_2X'],
    ['compatibleWith2xPhase1', undefined, 'CLIENT_VERSION_INIT'],
    ['3x', 'CLIENT_VERSION_3X_WITH_ROLLBACK', 'CLIENT_VERSION_3X'],
    ['compatibleWith2x', 'CLIENT_VERSION_3X_WITH_ROLLBACK', 'CLIENT_VERSION_3X_WITH_ROLLBACK'],
    ['compatibleWith2xPhase1', 'CLIENT_VERSION_3X_WITH_ROLLBACK', 'CLIENT_VERSION_3X_WITH_ROLLBACK'],
    ['3x', 'CLIENT_VERSION_2X', 'CLIENT_VERSION_2X'],
    ['3x', 'CLIENT_VERSION_UPGRADE_FROM_2X', 'CLIENT_VERSION_UPGRADE_FROM_2X'],
    ['compatibleWith2x', 'CLIENT_VERSION_3X', 'CLIENT_VERSION_3X'],
    ['compatibleWith2xPhase1', 'CLIENT_VERSION_2X', 'CLIENT_VERSION_2X'],
  ] as const)('config %s, stored %s → %s', (config, stored, expected) => {
    expect(startClientVersion(config as ClientVersionConfig, stored as StoredClientVersion | undefined)).toBe(
      expected as ClientVersion,
    )
  })
})

describe('the Migration3.0 item', () => {
  it('round-trips, history newest first', () => {
    const state = {
      clientVersion: 'CLIENT_VERSION_3X_WITH_ROLLBACK' as const,
      modifiedBy: 'w1',
      modifiedTimestamp: 1_700_000_000_123,
      history: [{ clientVersion: 'CLIENT_VERSION_UPGRADE_FROM_2X' as const, modifiedBy: 'w0', modifiedTimestamp: 1 }],
    }
    const item = migrationStateToItem(state)
    expect(item).toEqual({
      cv: { S: 'CLIENT_VERSION_3X_WITH_ROLLBACK' },
      mb: { S: 'w1' },
      mts: { N: '1700000000123' },
      h: { L: [{ M: { cv: { S: 'CLIENT_VERSION_UPGRADE_FROM_2X' }, mb: { S: 'w0' }, mts: { N: '1' } } }] },
    })
    expect(migrationStateFromItem(item)).toEqual(state)
  })

  it('writes no h without history (Java serialize)', () => {
    expect(
      migrationStateToItem({ clientVersion: 'CLIENT_VERSION_3X', modifiedBy: 'w', modifiedTimestamp: 5, history: [] }),
    ).not.toHaveProperty('h')
  })

  it('keeps at most 10 history entries, dropping the oldest', () => {
    let state = advanceMigrationState(
      { clientVersion: 'CLIENT_VERSION_INIT', modifiedBy: 'w', modifiedTimestamp: 0 },
      [],
      'CLIENT_VERSION_UPGRADE_FROM_2X',
      'w',
      0,
    )
    for (let i = 1; i <= 15; i++) {
      const next = i % 2 === 0 ? 'CLIENT_VERSION_UPGRADE_FROM_2X' : 'CLIENT_VERSION_2X'
      state = advanceMigrationState(state, state.history, next, `w${i}`, i)
    }
    expect(state.history).toHaveLength(MAX_HISTORY_ENTRIES)
    expect(state.history[0]?.modifiedTimestamp).toBe(14)
    expect(state.history.at(-1)?.modifiedTimestamp).toBe(5)
  })

  it('refuses an unknown cv (incl. the lowercase spellings of early KclMigrationTool.py) with what it found', () => {
    expect(() => migrationStateFromItem({ cv: { S: 'CLIENT_VERSION_2x' } })).toThrow(ConfigurationError)
    expect(() => migrationStateFromItem({ cv: { S: 'CLIENT_VERSION_2x' } })).toThrow(/received "CLIENT_VERSION_2x"/)
    expect(() => migrationStateFromItem({})).toThrow(/no cv attribute/)
  })
})

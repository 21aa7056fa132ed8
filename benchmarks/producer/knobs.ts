import { envNumber } from '../lib/table.js'
import { CONTENDER_IDS, type ContenderId } from './contenders/ids.js'

/** The producer benchmark's settings, from the environment (documented in index.ts and the README). */
export interface Knobs {
  readonly parts: readonly string[]
  readonly contenders: readonly ContenderId[]
  readonly records: number
  readonly naiveRecords: number
  readonly rssRecords: number
  readonly keys: number
  readonly shards: number
  readonly delaysMs: readonly number[]
  readonly cpuDelayMs: number
  readonly throttleRate: number
  readonly errorRate: number
  readonly seed: number
  readonly window: number
  readonly settleTimeoutMs: number
}

/** One run's conditions. */
export interface Scenario {
  /** Round trip of every answer. */
  readonly delayMs: number
  readonly total: number
  readonly bytes: number
  /** Hot keys; 0: a key per record. */
  readonly keys: number
}

const list = (name: string, fallback: readonly string[]) =>
  process.env[name] ? process.env[name].split(',').map((item) => item.trim()) : fallback

/** A share in 0..1, where 0 (turning a fault off) is a value and not "unset". */
function envShare(name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!(value >= 0 && value <= 1)) throw new RangeError(`${name} must be a number in 0..1, got ${raw}`)
  return value
}

export function readKnobs(): Knobs {
  const contenders = list('BENCH_PRODUCER_CONTENDERS', CONTENDER_IDS)
  const unknown = contenders.filter((id) => !CONTENDER_IDS.includes(id as ContenderId))
  if (unknown.length > 0) {
    throw new RangeError(
      `BENCH_PRODUCER_CONTENDERS: unknown ${unknown.join(', ')} (known: ${CONTENDER_IDS.join(', ')})`,
    )
  }
  const records = Math.round(envNumber('BENCH_PRODUCER_RECORDS', 300_000))
  const delaysMs = list('BENCH_PRODUCER_DELAYS_MS', ['20', '80', '200']).map(Number)
  if (delaysMs.some((ms) => !(ms >= 0))) throw new RangeError('BENCH_PRODUCER_DELAYS_MS: milliseconds, comma-separated')
  return {
    parts: list('BENCH_PRODUCER_PARTS', ['a', 'b', 'c']),
    contenders: contenders as ContenderId[],
    records,
    naiveRecords: Math.round(envNumber('BENCH_PRODUCER_NAIVE_RECORDS', Math.min(records, 60_000))),
    rssRecords: Math.round(envNumber('BENCH_PRODUCER_RSS_RECORDS', 1_000_000)),
    keys: Math.round(envNumber('BENCH_PRODUCER_KEYS', 2000)),
    shards: Math.round(envNumber('BENCH_PRODUCER_SHARDS', 4)),
    delaysMs,
    cpuDelayMs: envNumber('BENCH_PRODUCER_CPU_DELAY_MS', 80),
    throttleRate: envShare('BENCH_PRODUCER_THROTTLE_RATE', 0.03),
    errorRate: envShare('BENCH_PRODUCER_ERROR_RATE', 0.01),
    seed: Math.round(envNumber('BENCH_PRODUCER_SEED', 16)),
    window: Math.round(envNumber('BENCH_PRODUCER_WINDOW', 50_000)),
    settleTimeoutMs: envNumber('BENCH_PRODUCER_SETTLE_TIMEOUT_S', 60) * 1000,
  }
}

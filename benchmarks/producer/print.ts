import { printTable } from '../lib/table.js'
import type { ContenderId } from './contenders/ids.js'
import type { Knobs, Scenario } from './knobs.js'
import type { RunResult } from './results.js'

/** PASS/MISS lines, printed together after the tables. */
export type Verdicts = string[]

/** The targets of issue 16. */
export const TARGETS = Object.freeze({
  capacityShare: 0.9,
  vsNaive: 9,
  cpuVsPeer: 1.0,
  cpuGoalVsPeer: 0.5,
  rssMb: 300,
})

const count = (value: number) => Math.round(value).toLocaleString('en-US')
const rate = (value: number) => (value >= 10_000 ? `${(value / 1000).toFixed(1)}k` : count(value))
const percent = (share: number) => `${(share * 100).toFixed(1)}%`
const times = (value: number) => `${value.toFixed(2)}x`
const perRecord = (value: number) => (value === 0 ? '0' : value.toFixed(4))
const status = (run: RunResult) => (run.disqualified === undefined ? 'ok' : `NOT RANKED: ${run.disqualified}`)
const ranked = (run: RunResult | undefined): run is RunResult => run !== undefined && run.disqualified === undefined
/** A rate measured over a wider window than the steady one is marked (the run was short). */
const steadyRate = (run: RunResult) =>
  `${rate(run.steady.recordsPerSecond)}${run.steady.window === 'steady' ? '' : ` (${run.steady.window})`}`
const keysOf = (keys: number) => (keys > 0 ? `${count(keys)} hot keys` : 'unique keys')
const verdict = (pass: boolean) => (pass ? 'PASS' : 'MISS')

/** `candidate / base` of a higher-is-better rate when both are ranked, for a table cell. */
function rateRatio(candidate: RunResult, base: RunResult | undefined): string {
  if (!ranked(candidate)) return 'not ranked'
  if (!ranked(base)) return '—'
  return times(candidate.steady.recordsPerSecond / base.steady.recordsPerSecond)
}

function printUnknownOperations(runs: ReadonlyMap<ContenderId, RunResult>): void {
  for (const run of runs.values()) {
    const names = Object.entries(run.unknownOperations)
    if (names.length > 0) {
      console.log(`note: ${run.contender} called operations the endpoint does not speak: ${names.join(', ')}`)
    }
  }
}

/** (a): one round trip, every contender. */
export function printCapacityRun(
  delayMs: number,
  knobs: Knobs,
  runs: ReadonlyMap<ContenderId, RunResult>,
  verdicts: Verdicts,
): void {
  const naive = runs.get('naive')
  const peer = runs.get('peer')
  printTable(
    `(a) ${delayMs} ms round trips: ${count(knobs.records)} records of 100 B over ${keysOf(knobs.keys)} (naive: ${count(knobs.naiveRecords)}), ${knobs.shards} shards`,
    [
      'contender',
      'status',
      'delivered rec/s',
      'of capacity',
      'vs naive',
      'vs peer',
      'throttles/rec',
      'over limit/rec',
      '500s',
      'order violations',
      'lost',
      'wrong shard',
      'failed',
      'duplicates',
      'CPU µs/rec',
      'peak RSS MB',
    ],
    [...runs.values()].map((run) => [
      run.contender,
      status(run),
      steadyRate(run),
      percent(run.capacityShare),
      rateRatio(run, naive),
      rateRatio(run, peer),
      perRecord(run.throttlesPerRecord),
      perRecord(run.overLimitPerRecord),
      count(run.injectedErrors),
      count(run.orderViolations),
      count(run.lost),
      count(run.wrongShard),
      count(run.failed),
      count(run.duplicates),
      run.cpuMicrosPerRecord.toFixed(2),
      String(run.peakRssMb),
    ]),
  )
  printUnknownOperations(runs)
  for (const id of ['ordered', 'unordered'] as const) {
    const run = runs.get(id)
    if (run === undefined) continue
    const why = run.disqualified === undefined ? '' : ` (${run.disqualified})`
    const at = `${run.contender} at ${delayMs} ms`
    verdicts.push(
      `${at}: ${percent(run.capacityShare)} of the shards' byte capacity (target >= ${percent(TARGETS.capacityShare)}) ${verdict(ranked(run) && run.capacityShare >= TARGETS.capacityShare)}${why}`,
    )
    if (ranked(naive)) {
      const ratio = run.steady.recordsPerSecond / naive.steady.recordsPerSecond
      verdicts.push(
        `${at}: ${times(ratio)} the naive loop's delivered records/s (target >= ${TARGETS.vsNaive}x) ${verdict(ranked(run) && ratio >= TARGETS.vsNaive)}${why}`,
      )
    }
    if (id === 'ordered') {
      verdicts.push(
        `${at}: ${count(run.orderViolations)} per-key order violations (target 0) ${verdict(run.orderViolations === 0)}`,
      )
    }
  }
}

/** (b): CPU per delivered record for one record shape. */
export function printCpuRun(scenario: Scenario, runs: ReadonlyMap<ContenderId, RunResult>, verdicts: Verdicts): void {
  const peer = runs.get('peer')
  const shape = `${keysOf(scenario.keys)}, ${scenario.bytes} B`
  printTable(
    `(b) CPU per delivered record: ${count(scenario.total)} records, ${shape}, ${scenario.delayMs} ms round trips`,
    ['contender', 'status', 'delivered rec/s', 'CPU µs/rec', 'vs peer', 'peak RSS MB'],
    [...runs.values()].map((run) => [
      run.contender,
      status(run),
      steadyRate(run),
      run.cpuMicrosPerRecord.toFixed(2),
      ranked(run) && ranked(peer) ? times(run.cpuMicrosPerRecord / peer.cpuMicrosPerRecord) : '—',
      String(run.peakRssMb),
    ]),
  )
  printUnknownOperations(runs)
  for (const id of ['ordered', 'unordered'] as const) {
    const run = runs.get(id)
    if (run === undefined) continue
    if (!ranked(peer)) {
      verdicts.push(`${run.contender} CPU per record, ${shape}: no ranked peer in this run MISS`)
      continue
    }
    const ratio = run.cpuMicrosPerRecord / peer.cpuMicrosPerRecord
    const why = run.disqualified === undefined ? '' : ` (${run.disqualified})`
    verdicts.push(
      `${run.contender} CPU per record, ${shape}: ${run.cpuMicrosPerRecord.toFixed(2)} µs, ${times(ratio)} the shard-aware aws-kinesis-agg peer's ${peer.cpuMicrosPerRecord.toFixed(2)} µs (target <= ${times(TARGETS.cpuVsPeer)}) ${verdict(ranked(run) && ratio <= TARGETS.cpuVsPeer)}; goal <= ${times(TARGETS.cpuGoalVsPeer)} ${ranked(run) && ratio <= TARGETS.cpuGoalVsPeer ? 'met' : 'not met'}${why}`,
    )
  }
}

/** (c): peak RSS with many records offered. */
export function printRssRun(scenario: Scenario, runs: ReadonlyMap<ContenderId, RunResult>, verdicts: Verdicts): void {
  printTable(
    `(c) peak RSS with ${count(scenario.total)} records offered: ${scenario.bytes} B, ${keysOf(scenario.keys)}, ${scenario.delayMs} ms round trips`,
    [
      'contender',
      'status',
      'delivered',
      'delivered rec/s',
      'peak RSS MB',
      'of it: peak heap MB',
      'peak outside heap MB',
    ],
    [...runs.values()].map((run) => [
      run.contender,
      status(run),
      count(run.delivered),
      steadyRate(run),
      String(run.peakRssMb),
      String(run.peakHeapMb),
      String(run.peakExternalMb),
    ]),
  )
  for (const run of runs.values()) {
    const why = run.disqualified === undefined ? '' : ` (${run.disqualified})`
    verdicts.push(
      `${run.contender} peak RSS with ${count(scenario.total)} records offered: ${run.peakRssMb} MB (target < ${TARGETS.rssMb} MB) ${verdict(ranked(run) && run.peakRssMb < TARGETS.rssMb)}${why}`,
    )
  }
}

export function printVerdicts(verdicts: Verdicts): void {
  console.log('\n### Targets\n')
  for (const line of verdicts) console.log(line)
}

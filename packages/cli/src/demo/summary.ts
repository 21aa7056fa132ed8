import type { HandoffResult } from './handoff.js'
import type { LatencyRecorder } from './latency.js'
import type { LedgerReport } from './ledger.js'
import type { ProductionResult } from './produce.js'

export interface DemoSummary {
  readonly passed: boolean
  readonly verification: LedgerReport
  readonly produced: {
    successful: number
    failed: number
    failuresByCode: Record<string, number>
    recordsPerSecond: number
  }
  readonly consumed: { recordsPerSecond: number; perWorker: Record<string, number> }
  readonly latencyMs: { p50: number | undefined; p99: number | undefined }
  readonly handoff: HandoffResult
  /** With --poison: how many times the poison record was dead-lettered (at least once). */
  readonly deadLettered?: number
  readonly totalSeconds: number
}

export function summarize(input: {
  ledger: LedgerReport
  produced: ProductionResult
  latencies: LatencyRecorder
  perWorker: ReadonlyMap<string, number>
  handoff: HandoffResult
  deadLettered: number | undefined
  consumeSeconds: number
  totalSeconds: number
}): DemoSummary {
  const { ledger, produced } = input
  return {
    passed: ledger.passed && produced.failed === 0 && input.deadLettered !== 0,
    verification: ledger,
    produced: {
      successful: produced.successful,
      failed: produced.failed,
      failuresByCode: Object.fromEntries(produced.failuresByCode),
      recordsPerSecond: produced.successful / produced.seconds,
    },
    consumed: {
      recordsPerSecond: ledger.unique / input.consumeSeconds,
      perWorker: Object.fromEntries(input.perWorker),
    },
    latencyMs: { p50: input.latencies.percentile(50), p99: input.latencies.percentile(99) },
    handoff: input.handoff,
    ...(input.deadLettered === undefined ? {} : { deadLettered: input.deadLettered }),
    totalSeconds: input.totalSeconds,
  }
}

export function formatSummary(summary: DemoSummary): string {
  const n = (value: number) => Math.round(value).toLocaleString('en-US')
  const ms = (value: number | undefined) => (value === undefined ? 'n/a' : `${n(value)} ms`)
  const v = summary.verification
  const check = (ok: boolean) => (ok ? 'OK  ' : 'FAIL')
  const failures = Object.entries(summary.produced.failuresByCode)
    .map(([code, count]) => `${code} ${count}`)
    .join(', ')
  const lines = [
    '',
    'Verification',
    `  ${check(summary.produced.failed === 0)} produced            ${n(summary.produced.successful)} records acknowledged, ${n(summary.produced.failed)} failed${failures ? ` (${failures})` : ''}`,
    `  ${check(v.missing === 0)} consumed            ${n(v.unique)} of ${n(v.expected)} records at least once, ${n(v.missing)} missing`,
    `  ${check(true)} duplicates          ${n(v.duplicates)} redelivered (at-least-once: replays after handoff or reshard)`,
    `  ${check(v.outOfOrder === 0)} per-key order       ${n(v.outOfOrder)} records seen before an earlier record of their key`,
    ...(summary.deadLettered === undefined
      ? []
      : [
          `  ${check(summary.deadLettered > 0)} dead letters        the poison record dead-lettered ${n(summary.deadLettered)} time(s) (at least once), the shard moved on`,
        ]),
    '',
    'Performance',
    `  producer            ${n(summary.produced.recordsPerSecond)} records/s`,
    `  consumers           ${n(summary.consumed.recordsPerSecond)} records/s (${Object.entries(
      summary.consumed.perWorker,
    )
      .map(([worker, count]) => `${worker}: ${n(count)}`)
      .join(', ')})`,
    `  put -> process      p50 ${ms(summary.latencyMs.p50)}, p99 ${ms(summary.latencyMs.p99)}`,
    `  lease handoff       ${summary.handoff.shards} leases taken over ${ms(summary.handoff.ms)} after the graceful shutdown began`,
    `  total               ${summary.totalSeconds.toFixed(1)} s`,
    '',
    summary.passed ? 'Result: PASSED' : 'Result: FAILED',
    '',
  ]
  return lines.join('\n')
}

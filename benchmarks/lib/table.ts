/** One measured contender in a comparison. */
export interface BenchRow {
  readonly name: string
  /** The figure compared (higher is better), e.g. records/s. */
  readonly value: number
  /** Extra columns printed as they are (peak RSS, latency...). */
  readonly extra?: Readonly<Record<string, string | number>>
}

const format = (value: number) =>
  value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toLocaleString('en-US', { maximumFractionDigits: 2 })

/** Prints a markdown table, columns padded to their widest cell. */
export function printTable(title: string, header: readonly string[], body: readonly (readonly string[])[]): void {
  const widths = header.map((cell, i) => Math.max(cell.length, ...body.map((line) => (line[i] ?? '').length)))
  const line = (cells: readonly string[]) => `| ${widths.map((w, i) => (cells[i] ?? '').padEnd(w)).join(' | ')} |`
  console.log(`\n### ${title}\n`)
  console.log(line(header))
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`)
  for (const cells of body) console.log(line(cells))
}

/**
 * Prints a table relative to the slowest row (ratio 1.00x), plus the ratio against `target`
 * rows when given, so every figure in a run is compared with peers measured in that same run.
 */
export function printComparison(title: string, unit: string, rows: readonly BenchRow[]): void {
  const slowest = Math.min(...rows.map((row) => row.value))
  const extraKeys = [...new Set(rows.flatMap((row) => Object.keys(row.extra ?? {})))]
  const header = ['contender', unit, 'vs slowest', ...extraKeys]
  const body = rows.map((row) => [
    row.name,
    format(row.value),
    `${(row.value / slowest).toFixed(2)}x`,
    ...extraKeys.map((key) => String(row.extra?.[key] ?? '')),
  ])
  printTable(title, header, body)
}

/** Prints "name: ratio (target ≥ x) PASS/MISS" for a headline ratio. */
export function printRatio(name: string, ratio: number, target: number): void {
  console.log(`${name}: ${ratio.toFixed(2)}x (target >= ${target}x) ${ratio >= target ? 'PASS' : 'MISS'}`)
}

/**
 * Environment knob with a default, e.g. envNumber('BENCH_RECORDS', 200_000). Unset, unparsable or
 * below the minimum (by default anything not positive) gives the default; a count of rounds that may
 * be skipped passes `{ zeroAllowed: true }`.
 */
export function envNumber(name: string, fallback: number, { zeroAllowed = false } = {}): number {
  const raw = process.env[name]
  const value = raw === undefined || raw.trim() === '' ? Number.NaN : Number(raw)
  return Number.isFinite(value) && (value > 0 || (zeroAllowed && value === 0)) ? value : fallback
}

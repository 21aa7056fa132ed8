import type { MetricUnit } from '@kinesis-ts/shared'
import { readRepoFile, section, tableRows, unquoted } from './markdown.js'

/** A row of a package README's metrics table. */
export interface DocumentedMetric {
  readonly name: string
  readonly unit: MetricUnit
  /** Each set of dimension names the metric is published with, as sorted, comma-joined names ('' for none). */
  readonly dimensionSets: ReadonlySet<string>
}

const UNITS: readonly MetricUnit[] = ['Count', 'Bytes', 'Milliseconds', 'Percent', 'None']

function unitOf(cell: string, name: string): MetricUnit {
  const unit = UNITS.find((u) => u === cell)
  if (unit === undefined) throw new Error(`${name}: unknown unit ${cell}`)
  return unit
}

const key = (names: readonly string[]) => [...names].sort().join(',')

/** The producer README's table: granularities global / stream / shard, maybe "with `ErrorCode`". */
export function producerMetricsTable(): DocumentedMetric[] {
  return tableRows(section(readRepoFile('packages/producer/README.md'), '## Metrics')).map(([name, unit, levels]) => {
    const metric = unquoted(name!)
    const extra = levels!.includes('`ErrorCode`') ? ['ErrorCode'] : []
    const sets = new Set<string>()
    for (const level of levels!.split(/[,;]/).map((l) => l.trim())) {
      if (level === 'global') sets.add(key(extra))
      else if (level === 'stream') sets.add(key(['StreamName', ...extra]))
      else if (level === 'shard') sets.add(key(['StreamName', 'ShardId', ...extra]))
      else if (level !== 'with `ErrorCode`') throw new Error(`${metric}: unknown granularity "${level}"`)
    }
    return { name: metric, unit: unitOf(unit!, metric), dimensionSets: sets }
  })
}

/** The consumer README's table: `ShardId` or — (none). */
export function consumerMetricsTable(): DocumentedMetric[] {
  return tableRows(section(readRepoFile('packages/consumer/README.md'), '## Metrics')).map(
    ([name, unit, dimensions]) => {
      const metric = unquoted(name!)
      const dims = dimensions === '—' ? [] : dimensions!.split(',').map((d) => unquoted(d.trim()))
      return { name: metric, unit: unitOf(unit!, metric), dimensionSets: new Set([key(dims)]) }
    },
  )
}

export { key as dimensionSetKey }

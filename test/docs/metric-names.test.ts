import { describe, expect, it } from 'vitest'
import { CONSUMER_METRICS } from '../../packages/consumer/src/index.js'
import { PRODUCER_METRICS } from '../../packages/producer/src/index.js'
import { codeSpans, readRepoFile } from './markdown.js'
import { consumerMetricsTable, producerMetricsTable } from './metric-tables.js'

const sorted = (names: Iterable<string>) => [...names].sort()

/**
 * The metric names the root README gives as examples: the list in "Metrics keep the KPL names (`A`, `B`, ...".
 */
function rootReadmeNames(library: 'KPL' | 'KCL'): string[] {
  const list = readRepoFile('README.md')
    .replace(/\s+/g, ' ')
    .match(new RegExp(`Metrics keep the ${library} names \\(([^)]*?)\\.\\.\\.`))?.[1]
  if (list === undefined) throw new Error(`the root README no longer says "Metrics keep the ${library} names (..."`)
  return codeSpans(list)
}

describe('documented metric names match the METRICS tables of the code', () => {
  it('the producer README lists exactly PRODUCER_METRICS, each once', () => {
    const documented = producerMetricsTable().map((m) => m.name)
    expect(sorted(documented)).toEqual(sorted(Object.values(PRODUCER_METRICS)))
    expect(new Set(documented).size).toBe(documented.length)
  })

  it('the consumer README lists exactly CONSUMER_METRICS, each once', () => {
    const documented = consumerMetricsTable().map((m) => m.name)
    expect(sorted(documented)).toEqual(sorted(Object.values(CONSUMER_METRICS)))
    expect(new Set(documented).size).toBe(documented.length)
  })

  it('the metric names the root README mentions are all real ones', () => {
    const kpl = rootReadmeNames('KPL')
    const kcl = rootReadmeNames('KCL')
    expect(kpl.length).toBeGreaterThan(0)
    expect(kcl.length).toBeGreaterThan(0)
    for (const name of kpl) expect(Object.values(PRODUCER_METRICS), name).toContain(name)
    for (const name of kcl) expect(Object.values(CONSUMER_METRICS), name).toContain(name)
  })
})

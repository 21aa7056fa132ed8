import { InMemoryMetrics, type LogFn, type Logger, silentLogger } from '@kinesis-ts/shared'
import { describe, expect, it } from 'vitest'
import { METRICS } from '../metrics.js'
import { EventLoopWatch } from './event-loop-watch.js'

function block(ms: number): void {
  const until = performance.now() + ms
  while (performance.now() < until) {
    // A synchronous processRecords holding the loop.
  }
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 30))

describe('EventLoopWatch', () => {
  it('warns once, with the fix, when the loop was blocked past the threshold, and reports the delay every check', async () => {
    const warnings: string[] = []
    const warn: LogFn = (fields: unknown, message?: string) => {
      warnings.push(typeof fields === 'string' ? fields : (message ?? ''))
    }
    const logger: Logger = { ...silentLogger, warn }
    const metrics = new InMemoryMetrics()
    const watch = new EventLoopWatch({ thresholdMillis: 150, logger, metrics })
    watch.start()
    try {
      await tick()
      expect(watch.check()).toBeLessThan(150)
      expect(warnings).toEqual([])
      await tick()
      block(400)
      await tick()
      expect(watch.check()).toBeGreaterThanOrEqual(350)
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toContain('processorModule')
      await tick()
      block(400)
      await tick()
      expect(watch.check()).toBeGreaterThanOrEqual(350)
      expect(warnings).toHaveLength(1)
      const delay = metrics.snapshot().find((m) => m.name === METRICS.eventLoopDelay)
      expect(delay?.sampleCount).toBe(3)
      expect(delay?.max).toBeGreaterThanOrEqual(350)
    } finally {
      watch.stop()
    }
  })
})

import { describe, expect, it } from 'vitest'
import { EventHub } from './events.js'
import { silentLogger } from './logger.js'
import { InMemoryMetrics, fanOutMetrics } from './metrics.js'

describe('InMemoryMetrics', () => {
  it('summarises each series over the requested window', () => {
    let now = 1_000_000
    const metrics = new InMemoryMetrics({ retentionSeconds: 60, now: () => now })
    metrics.put('UserRecordsPut', 10, 'Count', { StreamName: 's' })
    metrics.put('UserRecordsPut', 30, 'Count', { StreamName: 's' })
    now += 5_000
    metrics.put('UserRecordsPut', 5, 'Count', { StreamName: 's' })
    metrics.put('UserRecordsPut', 1, 'Count')
    const lastSecond = metrics.snapshot(1).find((m) => m.dimensions.StreamName === 's')
    expect(lastSecond).toMatchObject({ sampleCount: 1, sum: 5 })
    const all = metrics.snapshot(60).find((m) => m.dimensions.StreamName === 's')
    expect(all).toMatchObject({ sampleCount: 3, sum: 45, min: 5, max: 30, average: 15 })
    expect(metrics.snapshot(60)).toHaveLength(2)
  })

  it('forgets what is older than the retention, in fixed memory', () => {
    let now = 0
    const metrics = new InMemoryMetrics({ retentionSeconds: 10, now: () => now })
    metrics.put('X', 1, 'Count')
    now = 11_000
    metrics.put('X', 2, 'Count')
    expect(metrics.snapshot()).toMatchObject([{ sampleCount: 1, sum: 2 }])
  })

  it('a failing sink does not stop the others', () => {
    const good = new InMemoryMetrics()
    const sink = fanOutMetrics(
      {
        put: () => {
          throw new Error('down')
        },
      },
      good,
    )
    sink.put('X', 1, 'Count')
    expect(good.snapshot()).toHaveLength(1)
  })
})

describe('EventHub', () => {
  it('builds payloads only when someone listens, and unsubscribes', () => {
    const hub = new EventHub<{ 'producer.put_records': { count: number } }>(silentLogger)
    let built = 0
    const payload = () => {
      built++
      return { count: 3 }
    }
    hub.emit('producer.put_records', payload)
    expect(built).toBe(0)
    const seen: number[] = []
    const off = hub.on('producer.put_records', (p) => seen.push(p.count))
    hub.emit('producer.put_records', payload)
    off()
    hub.emit('producer.put_records', payload)
    expect(seen).toEqual([3])
    expect(built).toBe(1)
  })

  it('keeps going when a listener throws, and logs it', () => {
    const logged: unknown[] = []
    const logger = { ...silentLogger, error: (fields: unknown) => logged.push(fields) }
    const hub = new EventHub<{ e: number }>(logger as typeof silentLogger)
    const seen: number[] = []
    hub.on('e', () => {
      throw new Error('listener bug')
    })
    hub.on('e', (n) => seen.push(n))
    hub.emit('e', 1)
    expect(seen).toEqual([1])
    expect(logged).toHaveLength(1)
  })
})

import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { silentLogger } from '@kinesis-ts/shared'
import { afterEach, describe, expect, it } from 'vitest'
import { ShutdownError } from '../../packages/consumer/src/errors.js'
import { type WorkerThreadHost, createWorkerThreadHost, lanesOf } from '../../packages/consumer/src/workers/index.js'
import { RecordingCheckpointer, processorModule, records, useLog } from './support/harness.js'

let host: WorkerThreadHost | undefined
let logDir: string | undefined
afterEach(async () => {
  await host?.close()
  host = undefined
  if (logDir !== undefined) rmSync(logDir, { recursive: true, force: true })
})

function start(options: { lanesPerShard?: number; workerThreads?: number; processingErrorPolicy?: 'retry' | 'skip' }) {
  const log = useLog()
  logDir = log.dir
  host = createWorkerThreadHost({ processorModule, workerThreads: 2, ...options })
  return { host, log }
}

const TRIM_HORIZON = { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 }

describe('worker-thread processing', () => {
  it('the built package loads a CommonJS processor module compiled from `export default` (exports.default)', async () => {
    // From dist, as users run it: the lane worker then loads the module with plain Node (no tsx interop).
    const built = (await import(
      new URL('../../packages/consumer/dist/internals.js', import.meta.url).href
    )) as typeof import('../../packages/consumer/src/internals.js')
    const log = useLog()
    logDir = log.dir
    const logger = { ...silentLogger, error: () => {} }
    const builtHost = built.createProcessorHost(
      {
        processorModule: new URL('./fixtures/compiled-default-processor.cjs', import.meta.url),
        workerThreads: 1,
        lanesPerShard: 1,
        processingErrorPolicy: 'retry',
      } as unknown as Parameters<typeof built.createProcessorHost>[0],
      { logger } as unknown as Parameters<typeof built.createProcessorHost>[1],
    )
    try {
      const processor = builtHost.create('shardId-000')
      await processor.initialize({ shardId: 'shardId-000', extendedSequenceNumber: TRIM_HORIZON })
      await processor.processRecords({
        records: records([{ key: 'k', data: 'from-cjs' }]),
        checkpointer: new RecordingCheckpointer(),
        millisBehindLatest: 0,
      })
      expect(log.lines('record')).toEqual([['record', 'shardId-000', 'from-cjs']])
    } finally {
      await builtHost.close()
    }
  })

  it('destroy() ends a lane stuck in processRecords at once: the call rejects, is not redelivered, and close() after it returns', async () => {
    const { host, log } = start({ lanesPerShard: 2 })
    const processor = host.create('shardId-000')
    await processor.initialize({ shardId: 'shardId-000', extendedSequenceNumber: TRIM_HORIZON })
    const stuck = processor.processRecords({
      records: records([
        { key: 'a', data: 'sleep:600000' },
        { key: 'b', data: 'sleep:600000' },
      ]),
      checkpointer: new RecordingCheckpointer(),
      millisBehindLatest: 0,
    })
    const outcome = stuck.then(
      () => 'resolved',
      (error: Error & { code?: string }) => error.code,
    )
    await new Promise((resolve) => setTimeout(resolve, 300))
    const initializedBefore = log.lines('event').filter((line) => line[5]?.startsWith('initialize')).length
    await host.destroy()
    expect(await outcome).toBe('ERR_WORKER_CRASHED')
    await host.close()
    // No lane was started again on the destroyed pool.
    expect(log.lines('event').filter((line) => line[5]?.startsWith('initialize')).length).toBe(initializedBefore)
    expect(() => host.create('shardId-001')).toThrow(/closed/i)
  })

  it('a processorModule file that does not exist fails at construction, naming the option and the path', () => {
    for (const missing of [
      '/nonexistent/processor.js',
      './nonexistent/processor.js',
      // Longer than values a message shortens: the path is still named whole.
      `/nonexistent/${'nested/'.repeat(12)}processor.js`,
      new URL('file:///nonexistent.js'),
    ]) {
      expect(() => createWorkerThreadHost({ processorModule: missing, workerThreads: 1 })).toThrow(
        expect.objectContaining({
          code: 'ERR_INVALID_CONFIG',
          message: expect.stringMatching(/processorModule.*nonexistent/),
        }),
      )
    }
    // A path starting with '.' is taken from the current directory (the repository root here).
    const relative = createWorkerThreadHost({
      processorModule: './test/workers/fixtures/recording-processor.ts',
      workerThreads: 1,
    })
    return relative.close()
  })

  it('keeps per-key order across lanes on different threads, with one processor instance per lane', async () => {
    const { host, log } = start({ lanesPerShard: 2 })
    const processor = host.create('shardId-000')
    await processor.initialize({ shardId: 'shardId-000', extendedSequenceNumber: TRIM_HORIZON })
    const keys = Array.from({ length: 8 }, (_, i) => `key-${i}`)
    const checkpointer = new RecordingCheckpointer()
    for (let batch = 0; batch < 4; batch++) {
      const items = Array.from({ length: 40 }, (_, i) => ({ key: keys[i % keys.length] ?? '', data: `${batch}-${i}` }))
      await processor.processRecords({ records: records(items), checkpointer, millisBehindLatest: 0 })
    }
    const lines = log.lines('record')
    expect(lines).toHaveLength(160)
    for (const key of keys) {
      const seen = lines.filter((f) => f[6] === key).map((f) => f[7])
      const expected = Array.from({ length: 4 }, (_, b) =>
        Array.from({ length: 5 }, (_, j) => `${b}-${keys.indexOf(key) + 8 * j}`),
      ).flat()
      expect(seen).toEqual(expected)
    }
    // Lanes follow the partition-key hash; each lane kept one processor (state) on one thread.
    const laneOfKey = new Map(keys.map((key) => [key, lanesOf(records([{ key, data: '' }]), 2)[0]]))
    for (const f of lines) expect(Number(f[2])).toBe(laneOfKey.get(f[6] ?? ''))
    const instances = new Set(lines.map((f) => `${f[2]}/${f[3]}/${f[4]}`))
    expect(instances.size).toBe(2)
    expect(new Set(lines.map((f) => f[4])).size).toBe(2)
    // Batch counters grew within each instance: state survived between batches.
    expect(Math.max(...lines.map((f) => Number(f[5])))).toBe(4)
    // The last checkpoint covers the whole last batch.
    expect(checkpointer.calls.at(-1)).toMatchObject({
      sequenceNumber: lines
        .map((f) => f[8])
        .sort()
        .at(-1),
    })
  })

  it('never checkpoints past a record a slower lane has not finished (low-water mark)', async () => {
    const { host, log } = start({ lanesPerShard: 2 })
    const processor = host.create('shardId-001')
    await processor.initialize({ shardId: 'shardId-001', extendedSequenceNumber: TRIM_HORIZON })
    // Find a key per lane; the first record (slow lane) sleeps, so the later lane finishes first.
    const candidates = Array.from({ length: 16 }, (_, i) => `k${i}`)
    const lanes = lanesOf(records(candidates.map((key) => ({ key, data: '' }))), 2)
    const slow = candidates[lanes.indexOf(0)] ?? ''
    const fast = candidates[lanes.indexOf(1)] ?? ''
    const batch = records([
      { key: slow, data: 'sleep:400' },
      { key: fast, data: 'f1' },
      { key: fast, data: 'f2' },
      { key: slow, data: 's2' },
      { key: fast, data: 'f3' },
    ])
    const checkpointer = new RecordingCheckpointer()
    const violations: string[] = []
    checkpointer.onCheckpoint = (position) => {
      if (position === 'last') return
      const done = new Set(log.lines('record').map((f) => f[8]))
      for (const record of batch) {
        if (BigInt(record.sequenceNumber) <= BigInt(position.sequenceNumber) && !done.has(record.sequenceNumber)) {
          violations.push(`checkpoint ${position.sequenceNumber} passed unfinished ${record.sequenceNumber}`)
        }
      }
    }
    await processor.processRecords({ records: batch, checkpointer, millisBehindLatest: 0 })
    expect(violations).toEqual([])
    // The fast lane finished first, yet the first checkpoint written waited for the slow record.
    const order = log.lines('record').map((f) => f[7])
    expect(order.indexOf('f3')).toBeLessThan(order.indexOf('sleep:400'))
    const first = checkpointer.calls[0]
    expect(first).not.toBe('last')
    expect(BigInt((first as { sequenceNumber: string }).sequenceNumber)).toBeGreaterThanOrEqual(
      BigInt(batch[0]?.sequenceNumber ?? '0'),
    )
    expect(checkpointer.calls.at(-1)).toMatchObject({ sequenceNumber: batch[4]?.sequenceNumber })
  })

  it('redelivers a batch on a fresh thread when its worker thread dies mid-batch; nothing is lost', async () => {
    const { host, log } = start({ lanesPerShard: 1 })
    const processor = host.create('shardId-002')
    await processor.initialize({ shardId: 'shardId-002', extendedSequenceNumber: TRIM_HORIZON })
    const checkpointer = new RecordingCheckpointer()
    const first = records([1, 2, 3].map((i) => ({ key: 'a', data: `r${i}` })))
    await processor.processRecords({ records: first, checkpointer, millisBehindLatest: 0 })
    const marker = join(logDir ?? '', 'crashed-once')
    const second = records([
      { key: 'a', data: 'r4' },
      { key: 'a', data: `crash:${marker}` },
      { key: 'a', data: 'r5' },
    ])
    await processor.processRecords({ records: second, checkpointer, millisBehindLatest: 0 })
    const data = log.lines('record').map((f) => f[7])
    // r4 ran twice (before the crash, and in the redelivered batch): at least once, in order.
    expect(data).toEqual(['r1', 'r2', 'r3', 'r4', 'r4', `crash:${marker}`, 'r5'])
    const threads = new Set(log.lines('record').map((f) => f[4]))
    expect(threads.size).toBe(2)
    // The fresh processor was initialized from the last checkpoint, not from TRIM_HORIZON.
    const inits = log.lines('event').filter((f) => f[5]?.startsWith('initialize'))
    expect(inits.map((f) => f[5])).toEqual(['initialize:TRIM_HORIZON', `initialize:${second[0]?.sequenceNumber}`])
    expect(checkpointer.calls.at(-1)).toMatchObject({ sequenceNumber: second[2]?.sequenceNumber })
  })

  it('a checkpoint after the lease is lost rejects in the worker with the main thread error; leaseLost runs', async () => {
    const { host, log } = start({ lanesPerShard: 1 })
    const processor = host.create('shardId-003')
    await processor.initialize({ shardId: 'shardId-003', extendedSequenceNumber: TRIM_HORIZON })
    const checkpointer = new RecordingCheckpointer()
    const running = processor.processRecords({
      records: records([{ key: 'a', data: 'late-checkpoint:300' }]),
      checkpointer,
      millisBehindLatest: 0,
    })
    // The lease is lost while the batch runs in its thread: the consumer's checkpointer now refuses.
    checkpointer.failWith = new ShutdownError('shardId-003', 'lease lost')
    await running
    await processor.leaseLost({})
    const events = log.lines('event').map((f) => f[5])
    expect(events).toContain('late-checkpoint:ShutdownError/ERR_SHUTDOWN')
    expect(events.at(-1)).toBe('leaseLost')
    expect(checkpointer.calls).toEqual([])
  })

  it('with lanes, shardEnded writes SHARD_END once every lane checkpointed', async () => {
    const { host, log } = start({ lanesPerShard: 2 })
    const processor = host.create('shardId-004')
    await processor.initialize({ shardId: 'shardId-004', extendedSequenceNumber: TRIM_HORIZON })
    const checkpointer = new RecordingCheckpointer()
    await processor.shardEnded({ checkpointer })
    expect(log.lines('event').filter((f) => f[5] === 'shardEnded')).toHaveLength(2)
    expect(checkpointer.calls).toEqual(['last'])
  })
})

import { beforeAll, describe, expect, it } from 'vitest'
import { endpoints } from '../support/aws.js'
import { accepts, assertBuilt, collect, runCli, startCli } from './run-cli.js'

beforeAll(assertBuilt)

interface DemoSummaryJson {
  passed: boolean
  verification: { expected: number; unique: number; missing: number; duplicates: number; outOfOrder: number }
  produced: { successful: number; failed: number }
  handoff: { shards: number; ms: number }
  deadLettered?: number
}

describe('kinesis-ts demo', () => {
  it('produces, splits, hands off and consumes a small run with a poison record; its verification passes', async () => {
    const result = await runCli(['demo', '--records', '20000', '--keys', '200', '--poison', '--json'], {
      // The run's servers: the demo's own startup of them is covered by the `local` test.
      env: { KINESIS_ENDPOINT: endpoints().kinesis, DYNAMODB_ENDPOINT: endpoints().dynamodb },
      timeoutMs: 115_000,
    })
    const lines = result.stdout.trim().split('\n')
    const context = `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`
    expect(result.code, context).toBe(0)
    expect(result.stdout).toContain('Result: PASSED')
    expect(result.stdout).toMatch(/Split shardId-\d+ into shardId-\d+ and shardId-\d+/)
    const summary = JSON.parse(lines.at(-1) ?? '{}') as DemoSummaryJson
    expect(summary.passed).toBe(true)
    expect(summary.verification).toMatchObject({ expected: 20_000, unique: 20_000, missing: 0, outOfOrder: 0 })
    expect(summary.produced).toMatchObject({ successful: 20_000, failed: 0 })
    expect(summary.handoff.shards).toBeGreaterThan(0)
    // The poison record was isolated and dead-lettered (again after a handoff, at-least-once), and
    // held nothing back: every demo record arrived.
    expect(summary.deadLettered).toBeGreaterThanOrEqual(1)
    expect(result.stdout).toMatch(
      /dead-lettered the poison record of shardId-\d+ \(\d+\/\d+\) after \d+ failed processRecords calls/,
    )
    expect(result.stdout).toMatch(/OK {3}dead letters/)
  })

  it('Ctrl-C in the middle of a run stops it, and its own kinesis-local and dynalite with it', async () => {
    // No endpoints given: the demo starts its own servers, which must not outlive it.
    const child = startCli(['demo', '--records', '1000000'], {
      KINESIS_ENDPOINT: undefined,
      DYNAMODB_ENDPOINT: undefined,
    })
    const exited = collect(child, undefined, 60_000)
    const ports = await new Promise<number[]>((resolve, reject) => {
      let text = ''
      child.stdout?.on('data', (chunk: string) => {
        text += chunk
        const found = /Kinesis (\S+), DynamoDB (\S+)/.exec(text)
        // Interrupt once records are flowing, not during startup.
        if (found && /produc/.test(text.slice(found.index + found[0].length))) {
          resolve([found[1], found[2]].map((url) => Number(new URL(url ?? '').port)))
        }
      })
      child.on('exit', () => reject(new Error(`exited before producing: ${text}`)))
    })
    for (const port of ports) expect(await accepts(port)).toBe(true)
    child.kill('SIGINT')
    const result = await exited
    expect(result.code, result.stderr).not.toBe(0)
    expect(result.stdout).not.toContain('Result: PASSED')
    for (const port of ports) expect(await accepts(port)).toBe(false)
  })
})

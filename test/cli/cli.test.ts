import { beforeAll, describe, expect, it } from 'vitest'
import { endpoints, uniqueName } from '../support/aws.js'
import { accepts, assertBuilt, collect, runCli, startCli } from './run-cli.js'

beforeAll(assertBuilt)

const backendEnv = () => ({ KINESIS_ENDPOINT: endpoints().kinesis, DYNAMODB_ENDPOINT: endpoints().dynamodb })

describe('kinesis-ts CLI', () => {
  it('prints help per command and fails bad usage with one line and exit code 2', async () => {
    const help = await runCli(['produce', '--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('Usage: kinesis-ts produce [options]')
    expect(help.stdout).toContain('--partition-key <key>')

    const unknown = await runCli(['produce', '--stream', 's', '--bogus'])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr.split('\n')[0]).toMatch(/^kinesis-ts: Unknown option '--bogus'/)
    expect(unknown.stderr).not.toMatch(/\n\s+at /)

    const badNumber = await runCli(['produce', '--stream', 's', '--generate', 'lots'])
    expect(badNumber.code).toBe(2)
    expect(badNumber.stderr).toContain('--generate must be an integer')

    const noCommand = await runCli(['frobnicate'])
    expect(noCommand.code).toBe(2)
    expect(noCommand.stderr).toContain("unknown command 'frobnicate'")
  })

  it('produces stdin lines and generated records, then consumes exactly them with a lease table', async () => {
    const stream = uniqueName('cli')
    const lines = Array.from({ length: 300 }, (_, i) => `line ${i} ünïcode`)
    const fromStdin = await runCli(['produce', '--stream', stream, '--create', '2'], {
      env: backendEnv(),
      input: `${lines.join('\n')}\n`,
    })
    expect(fromStdin.stderr).toContain(`Put 300 of 300 records to ${stream}`)
    expect(fromStdin.code).toBe(0)

    const generated = await runCli(['produce', '-s', stream, '--generate', '700', '--size', '64', '-q'], {
      env: backendEnv(),
    })
    expect(generated.code).toBe(0)
    expect(generated.stderr).toBe('')

    const application = uniqueName('cli-app')
    const consumeArgs = ['consume', '-s', stream, '-a', application, '--from', 'TRIM_HORIZON', '--format', 'json']
    const first = await runCli([...consumeArgs, '--max', '1000'], { env: backendEnv() })
    expect(first.code).toBe(0)
    expect(first.stderr).toContain('Consumed 1000 records')
    const records = first.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { data?: string; dataBase64?: string; partitionKey: string })
    expect(records).toHaveLength(1000)
    const texts = records.map((r) => r.data).filter((data): data is string => data?.startsWith('line ') === true)
    expect(texts.sort()).toEqual([...lines].sort())
    // Nothing doubled: every (key, data) pair is distinct.
    expect(new Set(records.map((r) => `${r.partitionKey}|${r.data ?? r.dataBase64}`)).size).toBe(1000)

    // The same application resumes from its checkpoints: nothing is left to read.
    const again = await runCli([...consumeArgs.slice(0, -2), '--format', 'count', '--until-idle', '5000'], {
      env: backendEnv(),
    })
    expect(again.code).toBe(0)
    expect(again.stderr).toContain('Consumed 0 records')
  })

  it('local: starts both servers, prints their endpoints, and leaves no port open after Ctrl-C', async () => {
    const child = startCli(['local', '--env'], { KINESIS_ENDPOINT: undefined, DYNAMODB_ENDPOINT: undefined })
    const exited = collect(child, undefined, 100_000)
    const exports = await new Promise<Record<string, string>>((resolve, reject) => {
      let text = ''
      child.stdout?.on('data', (chunk: string) => {
        text += chunk
        const found = Object.fromEntries([...text.matchAll(/^export (\w+)=(\S+)$/gm)].map((m) => [m[1], m[2]]))
        if (found.KINESIS_ENDPOINT && found.DYNAMODB_ENDPOINT) resolve(found as Record<string, string>)
      })
      child.on('exit', () => reject(new Error(`exited before printing endpoints: ${text}`)))
    })
    const ports = [exports.KINESIS_ENDPOINT, exports.DYNAMODB_ENDPOINT].map((url) => Number(new URL(url ?? '').port))
    for (const port of ports) expect(await accepts(port)).toBe(true)
    child.kill('SIGINT')
    const result = await exited
    expect(result.code).toBe(0)
    for (const port of ports) expect(await accepts(port)).toBe(false)
  })
})

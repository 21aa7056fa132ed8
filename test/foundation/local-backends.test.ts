import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { ListTablesCommand } from '@aws-sdk/client-dynamodb'
import { ListStreamsCommand } from '@aws-sdk/client-kinesis'
import { createKinesisClient, sleep } from '@kinesis-ts/shared'
import { createDynamoDBClient } from '@kinesis-ts/shared/dynamodb'
import {
  localCredentials,
  startContainerBackends,
  startLocalDynamoDB,
  startLocalKinesis,
} from '@kinesis-ts/shared/testing'
import { describe, expect, it } from 'vitest'

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function waitGone(pid: number, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs
  while (alive(pid) && Date.now() < deadline) await sleep(50)
  return !alive(pid)
}

const options = { region: 'us-east-1', credentials: localCredentials }

describe('local backends harness', () => {
  it('starts kinesis-local on a free port, answers, and stop() leaves no process', async () => {
    const kinesis = await startLocalKinesis({ ignoreEnvironment: true })
    expect(kinesis.external).toBe(false)
    expect(kinesis.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    const client = createKinesisClient({ ...options, endpoint: kinesis.endpoint })
    const streams = await client.send(new ListStreamsCommand({}))
    expect(streams.StreamNames).toEqual([])
    client.destroy()
    const pid = kinesis.pid!
    expect(alive(pid)).toBe(true)
    await kinesis.stop()
    await kinesis.stop() // idempotent
    expect(await waitGone(pid)).toBe(true)
  })

  it('starts dynalite on a free port, answers, and stop() leaves no process', async () => {
    const dynamodb = await startLocalDynamoDB({ ignoreEnvironment: true })
    const client = createDynamoDBClient({ ...options, endpoint: dynamodb.endpoint })
    expect((await client.send(new ListTablesCommand({}))).TableNames).toEqual([])
    client.destroy()
    const pid = dynamodb.pid!
    expect(alive(pid)).toBe(true)
    await dynamodb.stop()
    expect(await waitGone(pid)).toBe(true)
  })

  it('uses KINESIS_ENDPOINT / DYNAMODB_ENDPOINT instead of starting anything', async () => {
    const saved = { k: process.env.KINESIS_ENDPOINT, d: process.env.DYNAMODB_ENDPOINT }
    process.env.KINESIS_ENDPOINT = 'http://127.0.0.1:1'
    process.env.DYNAMODB_ENDPOINT = 'http://127.0.0.1:2'
    try {
      const kinesis = await startLocalKinesis()
      const dynamodb = await startLocalDynamoDB()
      expect(kinesis).toMatchObject({ endpoint: 'http://127.0.0.1:1', external: true })
      expect(dynamodb).toMatchObject({ endpoint: 'http://127.0.0.1:2', external: true })
    } finally {
      for (const [name, value] of [
        ['KINESIS_ENDPOINT', saved.k],
        ['DYNAMODB_ENDPOINT', saved.d],
      ] as const) {
        if (value === undefined) Reflect.deleteProperty(process.env, name)
        else process.env[name] = value
      }
    }
  })

  it('kills the servers when the process that started them dies without calling stop()', async () => {
    // A separate Node process starts both servers, prints their endpoints, then is SIGKILLed.
    const script = fileURLToPath(new URL('./fixtures/start-and-hang.ts', import.meta.url))
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    const deadline = Date.now() + 90_000
    while (!output.includes('\n') && Date.now() < deadline) await sleep(50)
    const { kinesisPid, dynamodbPid } = JSON.parse(output.split('\n')[0]!) as {
      kinesisPid: number
      dynamodbPid: number
    }
    expect(alive(kinesisPid)).toBe(true)
    expect(alive(dynamodbPid)).toBe(true)
    child.kill('SIGKILL')
    await once(child, 'exit')
    expect(await waitGone(kinesisPid)).toBe(true)
    expect(await waitGone(dynamodbPid)).toBe(true)
  })

  it('testcontainers backends say plainly that they skipped without a Docker engine', async () => {
    const saved = process.env.KINESIS_TS_TESTCONTAINERS
    process.env.KINESIS_TS_TESTCONTAINERS = '1'
    try {
      const result = await startContainerBackends()
      if (result.status === 'started') {
        // A machine with Docker: the containers must really answer.
        const client = createKinesisClient({ ...options, endpoint: result.kinesis.endpoint })
        await client.send(new ListStreamsCommand({}))
        client.destroy()
        await Promise.all([result.kinesis.stop(), result.dynamodb.stop()])
      } else {
        console.info(`testcontainers backends skipped: ${result.reason}`)
        expect(result.reason).toMatch(/Docker|testcontainers/)
      }
    } finally {
      if (saved === undefined) Reflect.deleteProperty(process.env, 'KINESIS_TS_TESTCONTAINERS')
      else process.env.KINESIS_TS_TESTCONTAINERS = saved
    }
  })
})

import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadedPackage, runNodeRecordingLoads } from './support/node-process.js'

/**
 * The built packages (dist, as `pnpm test` leaves them) loaded by plain Node in a fresh process, in
 * both module formats: what they load is recorded from outside (./support/record-loads.mjs).
 */
const REPO = fileURLToPath(new URL('../../', import.meta.url))
const dist = (path: string) => join(REPO, 'packages', path)

const ENTRIES = [
  { name: '@kinesis-ts/shared', esm: 'shared/dist/index.js', cjs: 'shared/dist/index.cjs' },
  { name: '@kinesis-ts/shared/dynamodb', esm: 'shared/dist/dynamodb.js', cjs: 'shared/dist/dynamodb.cjs' },
  {
    name: '@kinesis-ts/shared/opentelemetry',
    esm: 'shared/dist/opentelemetry.js',
    cjs: 'shared/dist/opentelemetry.cjs',
  },
  { name: '@kinesis-ts/producer', esm: 'producer/dist/index.js', cjs: 'producer/dist/index.cjs' },
  { name: '@kinesis-ts/consumer', esm: 'consumer/dist/index.js', cjs: 'consumer/dist/index.cjs' },
] as const
const CLI_BIN = dist('cli/dist/bin.js')

function importInFreshNode(format: 'esm' | 'cjs', file: string) {
  const code =
    format === 'esm'
      ? `const m = await import(${JSON.stringify(pathToFileURL(file).href)}); console.log(Object.keys(m).length)`
      : `const m = require(${JSON.stringify(file)}); console.log(Object.keys(m).length)`
  return runNodeRecordingLoads(format === 'esm' ? ['--input-type=module', '-e', code] : ['-e', code], { cwd: REPO })
}

beforeAll(() => {
  for (const file of [...ENTRIES.flatMap((entry) => [entry.esm, entry.cjs]).map(dist), CLI_BIN]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run 'pnpm build' first (pnpm test does)`)
  }
})

describe('the built packages in plain Node', () => {
  let scratch: string
  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'kinesis-ts-built-'))
  })
  afterAll(() => rmSync(scratch, { recursive: true, force: true }))

  it('the recorder sees a native addon load (control: an empty .node file goes to process.dlopen)', async () => {
    const addon = join(scratch, 'fake.node')
    writeFileSync(addon, '')
    const { loads } = await runNodeRecordingLoads(['-e', `try { require(${JSON.stringify(addon)}) } catch {}`], {
      cwd: REPO,
    })
    expect(loads.nativeAddons).toEqual([addon])
  })

  for (const entry of ENTRIES) {
    for (const format of ['esm', 'cjs'] as const) {
      it(`${entry.name} (${format}) loads no native addon`, async () => {
        const result = await importInFreshNode(format, dist(entry[format]))
        expect(result.stderr).toBe('')
        expect(result.code).toBe(0)
        expect(Number(result.stdout)).toBeGreaterThan(0)
        expect(result.loads.nativeAddons).toEqual([])
      })
    }
  }

  it('the kinesis-ts command (which imports every package) loads no native addon', async () => {
    const result = await runNodeRecordingLoads([CLI_BIN, '--help'], { cwd: REPO })
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('Usage: kinesis-ts <command>')
    expect(loadedPackage(result.loads, '@aws-sdk/client-kinesis')).toBe(true)
    expect(result.loads.nativeAddons).toEqual([])
  })

  for (const format of ['esm', 'cjs'] as const) {
    it(`the producer and the shared root (${format}) do not load the DynamoDB client; the consumer does`, async () => {
      const [producer, shared, consumer] = await Promise.all(
        ['producer', 'shared', 'consumer'].map((name) =>
          importInFreshNode(format, dist(`${name}/dist/index.${format === 'esm' ? 'js' : 'cjs'}`)),
        ),
      )
      expect(loadedPackage(producer!.loads, '@aws-sdk/client-kinesis')).toBe(true)
      expect(loadedPackage(producer!.loads, '@aws-sdk/client-dynamodb')).toBe(false)
      expect(loadedPackage(shared!.loads, '@aws-sdk/client-dynamodb')).toBe(false)
      // Tracing's optional peer is loaded only when tracing is asked for.
      for (const result of [producer!, shared!, consumer!]) {
        expect(loadedPackage(result.loads, '@opentelemetry/api')).toBe(false)
      }
      // Control: the same check sees the consumer load it (its lease table), and its WebAssembly FarmHash.
      expect(loadedPackage(consumer!.loads, '@aws-sdk/client-dynamodb')).toBe(true)
      expect(loadedPackage(consumer!.loads, 'farmhash-modern')).toBe(true)
    })
  }
})

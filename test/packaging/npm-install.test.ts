import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ProcessResult, loadedPackage, run, runNodeRecordingLoads } from './support/node-process.js'

/**
 * The packages as npm users get them: each publishable package packed with `pnpm pack`, the four
 * tarballs installed with npm (dependencies from the registry) into a new app outside the workspace,
 * then imported, required, run and typechecked there. One install serves every check.
 */
const REPO = fileURLToPath(new URL('../../', import.meta.url))
const FIXTURES = fileURLToPath(new URL('./fixtures/app/', import.meta.url))
const PACKAGES = ['shared', 'producer', 'consumer', 'cli'] as const
const TSC = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc')
const OPTIONAL_PEERS = ['dynalite', 'kinesis-local', '@aws-sdk/client-cloudwatch', '@opentelemetry/api']

/** Exactly what each entry point exports (the same from the ESM and the CommonJS build). */
const EXPORTS: Record<string, readonly string[]> = {
  '@kinesis-ts/shared/dynamodb': ['createDynamoDBClient', 'dynamoDBClientFrom'],
  // Loads without @opentelemetry/api installed: it imports only the API's types.
  '@kinesis-ts/shared/opentelemetry': ['OpenTelemetryMetricsSink'],
  '@kinesis-ts/shared/testing': [
    'CONTAINER_IMAGES',
    'freePorts',
    'localCredentials',
    'startContainerBackends',
    'startLocalDynamoDB',
    'startLocalKinesis',
  ],
  '@kinesis-ts/producer': [
    'ClosedError',
    'ConfigurationError',
    'InvalidArgumentError',
    'KinesisProducer',
    'KinesisTsError',
    'PACKAGE_NAME',
    'PRODUCER_DEFAULTS',
    'PRODUCER_METRICS',
    'PRODUCER_METRICS_NAMESPACE',
    'UserRecordFailedError',
    'cloudWatchMetrics',
    'deadLetterToStream',
    'originalData',
    'parseDeadLetterEnvelope',
    'resolveProducerConfig',
  ],
  '@kinesis-ts/consumer': [
    'AbortedError',
    'AwsCallError',
    'CONSUMER_DEFAULTS',
    'CONSUMER_METRICS',
    'ClosedError',
    'ConfigurationError',
    'InvalidCheckpointError',
    'KinesisConsumer',
    'KinesisTsError',
    'PACKAGE_NAME',
    'ShutdownError',
    'StreamConsumerError',
    'WorkerCrashedError',
    'WorkerProcessingError',
    'cloudWatchMetrics',
    'recordContext',
    'resolveConsumerConfig',
  ],
  '@kinesis-ts/consumer/internals': ['KCL3_MODE_SEAMS', 'KCL3_WORKER_MODE', 'createProcessorHost', 'ensureLeaseTable'],
}
/** The shared root is large: its key exports, and what moved to ./dynamodb. */
const SHARED_HAS = [
  'AggregateBuilder',
  'ConfigurationError',
  'KinesisTsError',
  'ShardMap',
  'createKinesisClient',
  'decodeAggregated',
  'encodeAggregated',
  'hashKeyOf',
]
const SHARED_LACKS = ['createDynamoDBClient', 'dynamoDBClientFrom', 'baseConfig']

/** Fingerprint32 of these keys from the `farmhash` addon the consumer used before (see lanes.test.ts). */
const ADDON_FINGERPRINTS: Readonly<Record<string, number>> = {
  'order-1': 1545644054,
  abc: 795041479,
  '\u00e9': 1973972843,
  'customer-42': 303730729,
  '\u{1F600}': 1664697074,
  '12345': 2946287185,
  'hello world!': 1030428963,
  '\u5206\u533a\u952e': 3704988380,
}

/** The environment without the npm_* settings `pnpm test` exports, which would steer npm in the app. */
function userEnvironment(): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries(process.env).map(([key, value]) => [key, /^npm_/i.test(key) ? undefined : value]),
  )
}

function expectSucceeded(result: ProcessResult): void {
  expect(result.code, `exit code; stdout:\n${result.stdout}\nstderr:\n${result.stderr}`).toBe(0)
}

let root: string
let app: string
let install: ProcessResult

beforeAll(async () => {
  for (const name of PACKAGES) {
    if (!existsSync(join(REPO, 'packages', name, 'dist'))) {
      throw new Error(`packages/${name}/dist is missing: run 'pnpm build' first (pnpm test does)`)
    }
  }
  root = mkdtempSync(join(tmpdir(), 'kinesis-ts-npm-'))
  if (!relative(REPO, root).startsWith('..')) throw new Error(`${root} is inside the workspace; set TMPDIR elsewhere`)
  const tarballs = join(root, 'tarballs')
  app = join(root, 'app')
  mkdirSync(app)
  for (const name of PACKAGES) {
    const packed = await run('npx', ['-y', 'pnpm@10', 'pack', '--pack-destination', tarballs], {
      cwd: join(REPO, 'packages', name),
      timeoutMs: 120_000,
    })
    expectSucceeded(packed)
  }
  cpSync(FIXTURES, app, { recursive: true })
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'kinesis-ts-user-app', private: true, type: 'module' }),
  )
  const files = readdirSync(tarballs).map((file) => join(tarballs, file))
  expect(files).toHaveLength(PACKAGES.length)
  // All four in one install, so npm takes @kinesis-ts/* from the tarballs (they are not on the registry).
  install = await run('npm', ['install', '--no-audit', '--no-fund', ...files, '@types/node@^20.17.0'], {
    cwd: app,
    env: userEnvironment(),
    timeoutMs: 280_000,
  })
  expectSucceeded(install)
}, 300_000)

afterAll(() => {
  if (root !== undefined) rmSync(root, { recursive: true, force: true })
})

describe('the packages installed with npm into a new app', () => {
  it('install from the tarballs without engine or peer warnings, and without the optional peers', () => {
    expect(install.stderr).not.toMatch(/EBADENGINE|ERESOLVE|peer/i)
    const lock = JSON.parse(readFileSync(join(app, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version?: string; resolved?: string }>
    }
    for (const name of PACKAGES) {
      const installed = lock.packages[`node_modules/@kinesis-ts/${name}`]
      expect(installed?.version).toBe('0.1.0')
      expect(installed?.resolved).toMatch(new RegExp(`^file:.*kinesis-ts-${name}-0\\.1\\.0\\.tgz$`))
      // What ships: dist and the manifest (source maps carry their sources), no src or test vectors.
      const shipped = readdirSync(join(app, 'node_modules', '@kinesis-ts', name)).sort()
      expect(shipped.filter((file) => file !== 'README.md')).toEqual(['dist', 'package.json'])
    }
    for (const peer of OPTIONAL_PEERS) {
      expect(existsSync(join(app, 'node_modules', peer)), `${peer} installed`).toBe(false)
    }
  })

  it('each entry point imports as ESM and requires as CommonJS, with the same exports, loading no native addon', async () => {
    const names = ['@kinesis-ts/shared', ...Object.keys(EXPORTS)]
    const results = await Promise.all(
      names.flatMap((name) => [
        runNodeRecordingLoads(
          [
            '--input-type=module',
            '-e',
            `const m = await import('${name}'); console.log(JSON.stringify(Object.keys(m).sort()))`,
          ],
          { cwd: app },
        ),
        runNodeRecordingLoads(['-e', `console.log(JSON.stringify(Object.keys(require('${name}')).sort()))`], {
          cwd: app,
        }),
      ]),
    )
    names.forEach((name, i) => {
      const [esm, cjs] = [results[2 * i]!, results[2 * i + 1]!]
      expectSucceeded(esm)
      expectSucceeded(cjs)
      const keys = JSON.parse(esm.stdout) as string[]
      expect(JSON.parse(cjs.stdout), `${name}: CommonJS exports`).toEqual(keys)
      if (name === '@kinesis-ts/shared') {
        expect(keys).toEqual(expect.arrayContaining(SHARED_HAS))
        for (const missing of SHARED_LACKS) expect(keys).not.toContain(missing)
      } else {
        expect(keys, `${name}: exports`).toEqual(EXPORTS[name])
      }
      expect(esm.loads.nativeAddons, `${name} (ESM): native addons`).toEqual([])
      expect(cjs.loads.nativeAddons, `${name} (CommonJS): native addons`).toEqual([])
    })
  })

  it('without @opentelemetry/api: nothing loads it, and tracing: true is refused with a ConfigurationError', async () => {
    const script = [
      "const { KinesisProducer } = await import('@kinesis-ts/producer')",
      "const { KinesisConsumer, recordContext } = await import('@kinesis-ts/consumer')",
      "const common = { streamName: 's', region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }",
      'const codes = []',
      'try { new KinesisProducer({ ...common, tracing: true }) } catch (e) { codes.push(e.code + ":" + e.option) }',
      "try { new KinesisConsumer({ ...common, applicationName: 'app', processorFactory: () => ({}), tracing: true }) } catch (e) { codes.push(e.code + ':' + e.option) }",
      "try { recordContext({ headers: {} }) } catch (e) { codes.push(e.code + ':' + e.option) }",
      'const producer = new KinesisProducer(common)',
      'producer.destroy()',
      'console.log(JSON.stringify(codes))',
    ].join('\n')
    // Without the NODE_PATH that pnpm's bin shims export (it reaches the workspace's packages): an app has none.
    const result = await runNodeRecordingLoads(['--input-type=module', '-e', script], {
      cwd: app,
      env: { NODE_PATH: undefined },
    })
    expectSucceeded(result)
    expect(JSON.parse(result.stdout)).toEqual([
      'ERR_INVALID_CONFIG:tracing',
      'ERR_INVALID_CONFIG:tracing',
      'ERR_INVALID_CONFIG:recordContext',
    ])
    expect(loadedPackage(result.loads, '@opentelemetry/api')).toBe(false)
  })

  it('an error from the CommonJS build is an instance of the ESM class (and the other way round)', async () => {
    const result = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        [
          "import { createRequire } from 'node:module'",
          "const esm = await import('@kinesis-ts/producer')",
          "const cjs = createRequire(process.cwd() + '/')('@kinesis-ts/producer')",
          "const fromCjs = new cjs.ConfigurationError('maxConnections', 'an integer in 1..256', 0)",
          "const fromEsm = new esm.ClosedError('KinesisProducer')",
          'console.log(JSON.stringify([fromCjs instanceof esm.ConfigurationError, fromCjs instanceof esm.KinesisTsError, fromEsm instanceof cjs.ClosedError, fromEsm instanceof cjs.ConfigurationError, cjs.ConfigurationError === esm.ConfigurationError]))',
        ].join('\n'),
      ],
      { cwd: app },
    )
    expectSucceeded(result)
    expect(JSON.parse(result.stdout)).toEqual([true, true, true, false, false])
  })

  for (const format of ['esm', 'cjs'] as const) {
    it(`importing the producer (${format}) does not load the DynamoDB client; importing the consumer does`, async () => {
      const load = (name: string) =>
        format === 'esm'
          ? runNodeRecordingLoads(['--input-type=module', '-e', `await import('${name}')`], { cwd: app })
          : runNodeRecordingLoads(['-e', `require('${name}')`], { cwd: app })
      const [producer, shared, consumer] = await Promise.all(
        ['@kinesis-ts/producer', '@kinesis-ts/shared', '@kinesis-ts/consumer'].map(load),
      )
      for (const result of [producer!, shared!, consumer!]) expectSucceeded(result)
      expect(loadedPackage(producer!.loads, '@kinesis-ts/shared')).toBe(true)
      expect(loadedPackage(producer!.loads, '@aws-sdk/client-dynamodb')).toBe(false)
      expect(loadedPackage(shared!.loads, '@aws-sdk/client-dynamodb')).toBe(false)
      expect(loadedPackage(consumer!.loads, '@aws-sdk/client-dynamodb')).toBe(true)
      expect(loadedPackage(consumer!.loads, 'farmhash-modern')).toBe(true)
    })
  }

  it('a worker thread loads the consumer (its WebAssembly FarmHash) from both builds, with no native addon', async () => {
    const worker = [
      "const { parentPort } = require('node:worker_threads')",
      "const cjs = require('@kinesis-ts/consumer')",
      "import('@kinesis-ts/consumer').then((esm) => parentPort.postMessage([typeof cjs.KinesisConsumer, typeof esm.KinesisConsumer]))",
    ].join('\n')
    const main = [
      "const { Worker } = require('node:worker_threads')",
      `const worker = new Worker(${JSON.stringify(worker)}, { eval: true })`,
      'worker.once("message", (message) => { console.log(JSON.stringify(message)); void worker.terminate() })',
      'worker.once("error", (error) => { console.error(error); process.exitCode = 1 })',
    ].join('\n')
    const result = await runNodeRecordingLoads(['-e', main], { cwd: app })
    expectSucceeded(result)
    expect(JSON.parse(result.stdout)).toEqual(['function', 'function'])
    expect(result.loads.nativeAddons).toEqual([])
  })

  it('worker-thread lanes from the installed package put each key where the farmhash addon did', async () => {
    const keys = Object.keys(ADDON_FINGERPRINTS)
    const result = await runNodeRecordingLoads(['lanes.mjs', JSON.stringify(keys)], {
      cwd: app,
      env: { LANE_LOG: join(root, 'lanes.log') },
    })
    expectSucceeded(result)
    const expected = Object.fromEntries(keys.map((key) => [key, ADDON_FINGERPRINTS[key]! % 3]))
    expect(JSON.parse(result.stdout)).toEqual(expected)
    expect(result.loads.nativeAddons).toEqual([])
  })

  it('the kinesis-ts command runs from node_modules/.bin', async () => {
    const result = await runNodeRecordingLoads([join(app, 'node_modules', '.bin', 'kinesis-ts'), '--help'], {
      cwd: app,
    })
    expectSucceeded(result)
    expect(result.stdout).toContain('Usage: kinesis-ts <command>')
    expect(result.loads.nativeAddons).toEqual([])
  })

  for (const config of ['nodenext', 'node16', 'bundler']) {
    it(`a user program typechecks with moduleResolution ${config}`, async () => {
      const result = await run(process.execPath, [TSC, '-p', `tsconfig.${config}.json`], {
        cwd: app,
        timeoutMs: 110_000,
      })
      expect(result.stdout).toBe('')
      expectSucceeded(result)
    })
  }
})

import { dirname } from 'node:path'
import { freePorts } from './free-port.js'
import { type LocalBackend, externalBackend, startServer } from './local-backend.js'
import { resolvePackageFile } from './resolve-package.js'

export interface LocalKinesisOptions {
  /** Ignore KINESIS_ENDPOINT and always start kinesis-local. */
  readonly ignoreEnvironment?: boolean
  readonly region?: string
  /**
   * How long the mock keeps streams, consumers and reshards in their transitional states
   * (CREATING, UPDATING...). Short by default so tests run fast while still passing through them.
   */
  readonly transitionDuration?: string
  /** Streams to create at start-up, e.g. "orders:4". */
  readonly initializeStreams?: string
  readonly startTimeoutMs?: number
  readonly logLevel?: 'ERROR' | 'WARN' | 'INFO' | 'DEBUG'
}

export interface LocalKinesis extends LocalBackend {
  /** The mock's TLS port (HTTP/2 capable), when it was started here. */
  readonly tlsEndpoint: string | undefined
}

const TRANSITION_VARIABLES = [
  'CREATE_STREAM_DURATION',
  'DELETE_STREAM_DURATION',
  'REGISTER_STREAM_CONSUMER_DURATION',
  'DEREGISTER_STREAM_CONSUMER_DURATION',
  'START_STREAM_ENCRYPTION_DURATION',
  'STOP_STREAM_ENCRYPTION_DURATION',
  'MERGE_SHARDS_DURATION',
  'SPLIT_SHARD_DURATION',
  'UPDATE_SHARD_COUNT_DURATION',
  'UPDATE_STREAM_MODE_DURATION',
]

/**
 * Starts kinesis-local (the kinesis-mock server on Node) on free loopback ports, or returns
 * KINESIS_ENDPOINT when that is set. The endpoint is the plain HTTP/1.1 port.
 */
export async function startLocalKinesis(options: LocalKinesisOptions = {}): Promise<LocalKinesis> {
  const fromEnvironment = process.env.KINESIS_ENDPOINT
  if (!options.ignoreEnvironment && fromEnvironment) {
    return { ...externalBackend(fromEnvironment), tlsEndpoint: undefined }
  }
  const script = resolvePackageFile('kinesis-local', 'main.js', 'kinesis-local')
  const [plainPort, tlsPort] = (await freePorts(2)) as [number, number]
  const duration = options.transitionDuration ?? '20ms'
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KINESIS_MOCK_CERT_PATH: `${dirname(script)}/server.json`,
    KINESIS_MOCK_PLAIN_PORT: String(plainPort),
    KINESIS_MOCK_TLS_PORT: String(tlsPort),
    AWS_REGION: options.region ?? 'us-east-1',
    SHARD_LIMIT: '100000',
    ON_DEMAND_STREAM_COUNT_LIMIT: '10000',
    SHOULD_PERSIST_DATA: 'false',
    LOAD_DATA_IF_EXISTS: 'false',
    LOG_LEVEL: options.logLevel ?? 'WARN',
    ROOT_LOG_LEVEL: 'ERROR',
    ...Object.fromEntries(TRANSITION_VARIABLES.map((name) => [name, duration])),
    ...(options.initializeStreams ? { INITIALIZE_STREAMS: options.initializeStreams } : {}),
  }
  const endpoint = `http://127.0.0.1:${plainPort}`
  const backend = await startServer({
    backend: 'kinesis-local',
    script,
    args: [],
    env,
    endpoint,
    readyUrl: `${endpoint}/healthcheck`,
    timeoutMs: options.startTimeoutMs ?? 60_000,
  })
  return { ...backend, tlsEndpoint: `https://127.0.0.1:${tlsPort}` }
}

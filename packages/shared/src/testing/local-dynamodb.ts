import { freePorts } from './free-port.js'
import { type LocalBackend, externalBackend, startServer } from './local-backend.js'
import { resolvePackageFile } from './resolve-package.js'

export interface LocalDynamoDBOptions {
  /** Ignore DYNAMODB_ENDPOINT and always start dynalite. */
  readonly ignoreEnvironment?: boolean
  /** How long tables stay CREATING / UPDATING / DELETING, in ms. */
  readonly transitionMs?: number
  readonly startTimeoutMs?: number
}

/**
 * Starts dynalite (an in-memory DynamoDB server) on a free loopback port, or returns
 * DYNAMODB_ENDPOINT when that is set.
 */
export async function startLocalDynamoDB(options: LocalDynamoDBOptions = {}): Promise<LocalBackend> {
  const fromEnvironment = process.env.DYNAMODB_ENDPOINT
  if (!options.ignoreEnvironment && fromEnvironment) return externalBackend(fromEnvironment)
  const script = resolvePackageFile('dynalite', 'cli.js', 'dynalite')
  const [port] = (await freePorts(1)) as [number]
  const transition = String(options.transitionMs ?? 20)
  const endpoint = `http://127.0.0.1:${port}`
  return startServer({
    backend: 'dynalite',
    script,
    args: [
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--createTableMs',
      transition,
      '--deleteTableMs',
      transition,
      '--updateTableMs',
      transition,
    ],
    env: process.env,
    endpoint,
    // dynalite answers any request (with an auth error), which is all "ready" needs.
    readyUrl: endpoint,
    readyMethod: 'POST',
    timeoutMs: options.startTimeoutMs ?? 30_000,
  })
}

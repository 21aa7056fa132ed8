import type { LocalBackend } from './local-backend.js'

/** The slice of the testcontainers API used here (it is an optional peer dependency). */
interface StartedContainer {
  getHost(): string
  getMappedPort(port: number): number
  stop(): Promise<unknown>
}
interface ContainerBuilder {
  withExposedPorts(...ports: number[]): ContainerBuilder
  withEnvironment(env: Record<string, string>): ContainerBuilder
  start(): Promise<StartedContainer>
}
interface TestcontainersModule {
  GenericContainer: new (image: string) => ContainerBuilder
  getContainerRuntimeClient(): Promise<unknown>
}

export type ContainerBackends =
  | { readonly status: 'started'; readonly kinesis: LocalBackend; readonly dynamodb: LocalBackend }
  | { readonly status: 'skipped'; readonly reason: string }

export const CONTAINER_IMAGES = Object.freeze({
  kinesis: 'ghcr.io/etspaceman/kinesis-mock:0.4.9',
  dynamodb: 'amazon/dynamodb-local:2.5.2',
})

/**
 * With KINESIS_TS_TESTCONTAINERS=1 and a Docker engine, starts kinesis-mock and DynamoDB Local in
 * containers. Otherwise says plainly why it skipped; it never pretends to have started anything.
 */
export async function startContainerBackends(): Promise<ContainerBackends> {
  if (process.env.KINESIS_TS_TESTCONTAINERS !== '1') {
    return { status: 'skipped', reason: 'KINESIS_TS_TESTCONTAINERS is not 1' }
  }
  let tc: TestcontainersModule
  try {
    const name = 'testcontainers'
    tc = (await import(name)) as TestcontainersModule
  } catch {
    return { status: 'skipped', reason: 'the testcontainers package is not installed' }
  }
  try {
    await tc.getContainerRuntimeClient()
  } catch (error) {
    return { status: 'skipped', reason: `no Docker engine is reachable (${(error as Error).message})` }
  }
  const kinesis = await new tc.GenericContainer(CONTAINER_IMAGES.kinesis)
    .withExposedPorts(4568)
    .withEnvironment({ CREATE_STREAM_DURATION: '20ms', SHARD_LIMIT: '100000' })
    .start()
  const dynamodb = await new tc.GenericContainer(CONTAINER_IMAGES.dynamodb).withExposedPorts(8000).start()
  const asBackend = (container: StartedContainer, port: number): LocalBackend => ({
    endpoint: `http://${container.getHost()}:${container.getMappedPort(port)}`,
    external: false,
    pid: undefined,
    stop: async () => {
      await container.stop()
    },
  })
  return { status: 'started', kinesis: asBackend(kinesis, 4568), dynamodb: asBackend(dynamodb, 8000) }
}

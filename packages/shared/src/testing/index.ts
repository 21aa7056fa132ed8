export { startLocalKinesis, type LocalKinesis, type LocalKinesisOptions } from './local-kinesis.js'
export { startLocalDynamoDB, type LocalDynamoDBOptions } from './local-dynamodb.js'
export type { LocalBackend } from './local-backend.js'
export { startContainerBackends, CONTAINER_IMAGES, type ContainerBackends } from './containers.js'
export { freePorts } from './free-port.js'

/** Credentials the local servers accept (they check the format, not the secret). Not frozen: the SDK tags it. */
export const localCredentials = { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' }

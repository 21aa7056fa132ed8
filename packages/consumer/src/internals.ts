/**
 * `@kinesis-ts/consumer/internals`: machinery the repository's own tests drive through the built
 * package (the worker-thread processor host, as a user's install runs it). Not a public API: it may
 * change in any release, without a major version.
 */
export { createProcessorHost, type ModeContext } from './modes.js'
export type { ProcessorHost } from './seams.js'

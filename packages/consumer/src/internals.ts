/**
 * `@kinesis-ts/consumer/internals`: machinery the repository's own tests and benchmarks drive through
 * the built package (the worker-thread processor host, as a user's install runs it; the lease table
 * as the consumer creates it). Not a public API: it may change in any release, without a major version.
 */
export { createProcessorHost, type ModeContext } from './modes.js'
export type { ProcessorHost } from './seams.js'
export { ensureLeaseTable } from './leases/lease-table.js'
export { KCL3_WORKER_MODE, type Kcl3WorkerSwitch } from './kcl3/worker-mode.js'
export { KCL3_MODE_SEAMS, type Kcl3ModeSeams } from './kcl3/kcl3-mode-seams.js'

/**
 * The limit-enforcing endpoint in a process of its own (bundled by ../processes.ts), so that its work
 * (decoding and checking every record) is not charged to the contender's CPU and does not stall its event
 * loop. Started with IPC and advanced serialization: `node endpoint-process.mjs '<LimitedEndpointOptions JSON>'`
 * sends { type: 'ready', endpoint }, answers { type: 'report' } with { type: 'report', report } and exits on
 * { type: 'close' } or when its parent goes.
 */
import { type LimitedEndpointOptions, startLimitedEndpoint } from './endpoint.js'

export type EndpointRequest = { readonly type: 'report' } | { readonly type: 'close' }

const send = (message: unknown) => process.send?.(message)
const options = JSON.parse(process.argv[2] ?? '{}') as LimitedEndpointOptions
const endpoint = await startLimitedEndpoint(options)
process.on('disconnect', () => process.exit(0))
process.on('message', (message: EndpointRequest) => {
  if (message.type === 'report') send({ type: 'report', report: endpoint.report() })
  else void endpoint.close().then(() => process.exit(0))
})
send({ type: 'ready', endpoint: endpoint.endpoint })

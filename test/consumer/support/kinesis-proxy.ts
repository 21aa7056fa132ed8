import { type IncomingMessage, type ServerResponse, createServer, request } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface InjectedError {
  readonly type: string
  readonly message: string
}

/** Decides per request: undefined forwards it to kinesis-local, an error answers it instead. */
export type Decide = (operation: string, body: string) => InjectedError | undefined

/**
 * A loopback HTTP proxy in front of kinesis-local that can answer chosen calls with a service error
 * (throttling, an expired iterator), exactly as Kinesis would: HTTP 400 with `__type` in a JSON body.
 */
export async function startKinesisProxy(upstream: string, decide: Decide) {
  const target = new URL(upstream)
  const counts = new Map<string, number>()
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      const operation =
        String(req.headers['x-amz-target'] ?? '')
          .split('.')
          .pop() ?? ''
      counts.set(operation, (counts.get(operation) ?? 0) + 1)
      const injected = decide(operation, body.toString())
      if (injected !== undefined) {
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' })
        res.end(JSON.stringify({ __type: injected.type, message: injected.message }))
        return
      }
      forward(req, res, body, target)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls: (operation: string) => counts.get(operation) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

function forward(req: IncomingMessage, res: ServerResponse, body: Buffer, target: URL): void {
  const upstream = request(
    { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
    (reply) => {
      res.writeHead(reply.statusCode ?? 502, reply.headers)
      reply.pipe(res)
    },
  )
  upstream.on('error', () => {
    res.writeHead(502)
    res.end()
  })
  upstream.end(body)
}

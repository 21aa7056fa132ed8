import { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse, createServer, request } from 'node:http'
import { type Http2ServerRequest, type Http2ServerResponse, createServer as createH2Server } from 'node:http2'
import type { AddressInfo, Socket } from 'node:net'
import type { Duplex } from 'node:stream'

/**
 * A loopback relay in front of kinesis-local's plain HTTP/1.1 port, speaking HTTP/2 cleartext (h2c)
 * or HTTP/1.1 on its own side. kinesis-local's HTTP/2 event stream breaks in Node's client, so this
 * is how the SDK's NodeHttp2Handler path runs for real in tests. It can also misbehave on purpose:
 * end every SubscribeToShard response at an event boundary (the service's 5-minute end, early), or go
 * silent on the open ones (a half-open connection).
 */
export interface Relay {
  readonly endpoint: string
  /** Subscriptions relayed so far. */
  readonly subscriptions: number
  /** Connections (HTTP/2 sessions or HTTP/1.1 sockets) open right now. */
  readonly openConnections: number
  /** End each subscription after this many events (undefined: never). Applies to new and open ones. */
  endSubscriptionsAfter(events: number | undefined): void
  /** Stop relaying events of the subscriptions open now; later ones flow normally. */
  silenceOpenSubscriptions(): void
  close(): Promise<void>
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'http2-settings', 'te', 'host'])

function forwardable(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name.startsWith(':') || HOP_BY_HOP.has(name)) continue
    out[name] = value
  }
  return out
}

interface Tap {
  events: number
  silenced: boolean
  finish(): void
}

type Incoming = IncomingMessage | Http2ServerRequest
/** The part of an HTTP/1.1 or HTTP/2 response the relay uses. */
type Outgoing = Pick<ServerResponse, 'writeHead' | 'end' | 'destroy' | 'on'> & { write(chunk: Buffer): boolean }

export async function startRelay(target: string, protocol: 'h2' | 'http1'): Promise<Relay> {
  const upstream = new URL(target)
  const taps = new Set<Tap>()
  const connections = new Set<Socket | Duplex | { destroy(): void; once(e: 'close', f: () => void): void }>()
  let endAfter: number | undefined
  let subscriptions = 0

  const relay = (req: Incoming, reply0: ServerResponse | Http2ServerResponse): void => {
    const res = reply0 as Outgoing
    const isSubscription = String(req.headers['x-amz-target'] ?? '').endsWith('.SubscribeToShard')
    const out = request({
      host: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
      headers: { ...forwardable(req.headers), host: upstream.host },
    })
    out.on('error', () => res.destroy())
    req.pipe(out)
    res.on('close', () => out.destroy())
    out.on('response', (reply) => {
      res.writeHead(reply.statusCode ?? 502, forwardable(reply.headers))
      if (!isSubscription) {
        reply.pipe(reply0 as NodeJS.WritableStream)
        return
      }
      subscriptions++
      pipeEvents(reply, res)
    })
  }

  /** Forwards whole event-stream messages (4-byte big-endian total length first), so it can stop between two. */
  const pipeEvents = (reply: IncomingMessage, res: Outgoing): void => {
    let pending = Buffer.alloc(0)
    const tap: Tap = {
      events: 0,
      silenced: false,
      finish: () => {
        taps.delete(tap)
        reply.destroy()
        res.end()
      },
    }
    taps.add(tap)
    reply.on('data', (chunk: Buffer) => {
      if (tap.silenced) return
      pending = Buffer.concat([pending, chunk])
      while (pending.length >= 4 && pending.length >= pending.readUInt32BE(0)) {
        const size = pending.readUInt32BE(0)
        res.write(pending.subarray(0, size) as Buffer)
        pending = pending.subarray(size)
        tap.events++
        if (endAfter !== undefined && tap.events >= endAfter) return tap.finish()
      }
    })
    reply.on('end', () => {
      taps.delete(tap)
      res.end()
    })
    res.on('close', () => taps.delete(tap))
  }

  const server =
    protocol === 'h2'
      ? createH2Server(relay).on('session', (session) => {
          connections.add(session)
          session.once('close', () => connections.delete(session))
        })
      : createServer(relay).on('connection', (socket) => {
          connections.add(socket)
          socket.once('close', () => connections.delete(socket))
        })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo

  return {
    endpoint: `http://127.0.0.1:${port}`,
    get subscriptions() {
      return subscriptions
    },
    get openConnections() {
      return connections.size
    },
    endSubscriptionsAfter(events) {
      endAfter = events
      if (events === undefined) return
      for (const tap of [...taps]) if (tap.events >= events) tap.finish()
    },
    silenceOpenSubscriptions() {
      for (const tap of taps) tap.silenced = true
    },
    async close() {
      for (const connection of connections) connection.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

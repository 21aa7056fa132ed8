import { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse, createServer, request } from 'node:http'
import { type Http2ServerRequest, type Http2ServerResponse, createServer as createH2Server } from 'node:http2'
import { type AddressInfo, type Socket, createServer as createTcpServer } from 'node:net'
import { Duplex } from 'node:stream'

/**
 * A loopback relay in front of kinesis-local's plain HTTP/1.1 port, speaking HTTP/2 cleartext (h2c)
 * or HTTP/1.1 on its own side ('h2' takes HTTP/1.1 connections too, as one endpoint serves a client on
 * HTTP/1.1 and the HTTP/2 subscriptions derived from it). kinesis-local's HTTP/2 event stream breaks
 * in Node's client, so this is how the SDK's NodeHttp2Handler path runs for real in tests. It can also misbehave on purpose:
 * end every SubscribeToShard response at an event boundary (the service's 5-minute end, early), or go
 * silent on the open ones (a half-open connection).
 */
export interface Relay {
  readonly endpoint: string
  /** Subscriptions relayed so far. */
  readonly subscriptions: number
  /** Connections (HTTP/2 sessions or HTTP/1.1 sockets) open right now. */
  readonly openConnections: number
  /** Every SubscribeToShard request relayed, in order: its HTTP version ('1.1', '2.0') and Authorization header. */
  readonly subscriptionRequests: readonly { readonly httpVersion: string; readonly authorization: string }[]
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
  const subscriptionRequests: { httpVersion: string; authorization: string }[] = []

  const relay = (req: Incoming, reply0: ServerResponse | Http2ServerResponse): void => {
    const res = reply0 as Outgoing
    const isSubscription = String(req.headers['x-amz-target'] ?? '').endsWith('.SubscribeToShard')
    if (isSubscription) {
      subscriptionRequests.push({
        httpVersion: req.httpVersion,
        authorization: String(req.headers.authorization ?? ''),
      })
    }
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

  const http1 = createServer(relay).on('connection', (socket: Socket | Duplex) => {
    connections.add(socket)
    socket.once('close', () => connections.delete(socket))
  })
  const h2 = createH2Server(relay).on('session', trackSession)
  /** Every TCP connection of the 'h2' server, whichever protocol it turned out to speak (for close()). */
  const sockets = new Set<Socket>()
  const server =
    protocol === 'h2'
      ? createTcpServer((socket) => {
          sockets.add(socket)
          socket.once('close', () => sockets.delete(socket))
          sniff(socket, http1, h2)
        })
      : http1
  function trackSession(session: { destroy(): void; once(e: 'close', f: () => void): void }) {
    connections.add(session)
    session.once('close', () => connections.delete(session))
  }
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
    get subscriptionRequests() {
      return subscriptionRequests
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
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/**
 * Hands a connection to the HTTP/2 server when it opens with the h2c preface ("PRI * HTTP/2.0"), to the
 * HTTP/1.1 one otherwise. The HTTP/2 server reads from the socket's native handle, past bytes already
 * read here, so it gets a stream that replays the first chunk and then relays the socket (backpressure kept).
 */
function sniff(
  socket: Socket,
  http1: { emit(event: 'connection', socket: Socket): boolean },
  http2: { emit(event: 'connection', socket: Duplex): boolean },
): void {
  socket.once('data', (first: Buffer) => {
    if (first.subarray(0, 3).toString('latin1') !== 'PRI') {
      socket.pause()
      socket.unshift(first)
      http1.emit('connection', socket)
      socket.resume()
      return
    }
    const relayed = new Duplex({
      read: () => socket.resume(),
      write: (chunk, encoding, done) => socket.write(chunk, encoding, done),
      final: (done) => {
        socket.end()
        done()
      },
      destroy: (error, done) => {
        socket.destroy()
        done(error)
      },
    })
    relayed.push(first)
    socket.on('data', (chunk: Buffer) => {
      if (!relayed.push(chunk)) socket.pause()
    })
    socket.on('end', () => relayed.push(null))
    socket.on('close', () => relayed.destroy())
    socket.on('error', () => relayed.destroy())
    http2.emit('connection', relayed)
  })
  socket.on('error', () => socket.destroy())
}

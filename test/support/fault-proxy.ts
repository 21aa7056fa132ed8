import { Agent, type IncomingMessage, type ServerResponse, createServer, request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A seeded, fault-injecting HTTP/1.1 proxy on loopback for DynamoDB (dynalite) and Kinesis
 * (kinesis-local). It names each call from its `x-amz-target` header and answers it as the rules
 * say: forwarded untouched, or with one of the faults real AWS produces. The rules can be swapped
 * at any time (`proxy.rules = [...]`), so a test turns faults on for a window and off again.
 */

export type FaultService = 'dynamodb' | 'kinesis' | 'unknown'

export type FaultKind = 'commitThen500' | 'throttle' | 'hang' | 'reset' | 'status5xx' | 'error'

export type Fault =
  /** Forwarded (so a write lands), the answer discarded, HTTP 500 InternalServerError / InternalFailure instead. */
  | { readonly kind: 'commitThen500' }
  /** Not forwarded: HTTP 400 ProvisionedThroughputExceededException (or DynamoDB's ThrottlingException). */
  | { readonly kind: 'throttle'; readonly type?: 'ProvisionedThroughputExceededException' | 'ThrottlingException' }
  /**
   * No answer: held for `ms` then the connection is dropped, or (no `ms`) until the client gives up or
   * the proxy closes. Not forwarded, unless `forwardThenHang` (the write lands, its answer never comes).
   */
  | { readonly kind: 'hang'; readonly ms?: number; readonly forwardThenHang?: boolean }
  /** The connection is destroyed without an answer; `forwardThenReset` forwards first (the write lands). */
  | { readonly kind: 'reset'; readonly forwardThenReset?: boolean }
  /** Not forwarded: HTTP 503 ServiceUnavailable (or the given 5xx). */
  | { readonly kind: 'status5xx'; readonly status?: number }
  /** Not forwarded: this status and `__type` (a DynamoDB type without `#` gets the service's prefix). */
  | { readonly kind: 'error'; readonly status: number; readonly type: string; readonly message?: string }

/** One call as the proxy saw it. */
export interface ProxyRequest {
  /** 1, 2, 3... in arrival order. */
  readonly id: number
  readonly service: FaultService
  /** The operation name: `UpdateItem`, `GetRecords`... */
  readonly operation: string
  /** The parsed JSON body ({} when it was empty or not JSON). */
  readonly body: Readonly<Record<string, unknown>>
  /**
   * Kinesis: the shard the call is for (GetRecords' is found from the iterators this proxy saw
   * handed out). DynamoDB: the item's `leaseKey`, which in a KCL lease table is the shard id.
   */
  readonly shardId: string | undefined
  readonly receivedAt: number
}

export type OperationFilter = string | readonly string[] | ((request: ProxyRequest) => boolean)

export interface FaultRule {
  /** For reports and for telling rules apart in `onExchange`. */
  readonly name?: string
  /** Which calls the rule applies to: an operation name, a list of them, or a predicate; all when absent. */
  readonly match?: OperationFilter
  /** Share (0..1) of matching calls that get the fault, drawn from the proxy's seeded generator. */
  readonly probability?: number
  /** Only the next N matching calls (that also pass `probability`) get the fault. */
  readonly times?: number
  readonly fault: Fault
}

/** One finished call: what was done to it and what the client saw. */
export interface ProxyExchange {
  readonly request: ProxyRequest
  readonly rule: FaultRule | undefined
  readonly fault: FaultKind | undefined
  /** Set when the call reached the upstream: it may have taken effect whatever the client saw. */
  readonly upstreamStatus: number | undefined
  readonly upstreamBody: Readonly<Record<string, unknown>> | undefined
  /** The status the client got, 'reset' (connection destroyed) or 'abandoned' (client or proxy closed first). */
  readonly outcome: number | 'reset' | 'abandoned'
  readonly endedAt: number
}

/** Per operation: calls, calls forwarded, and calls that got each fault. */
export type ProxyCounts = Record<string, Partial<Record<'calls' | 'forwarded' | FaultKind, number>>>

export interface FaultProxy {
  readonly endpoint: string
  /** Evaluated in order for every call; the first rule that fires decides. */
  rules: readonly FaultRule[]
  /** Called as each call arrives, before any rule. */
  onRequest: ((request: ProxyRequest) => void) | undefined
  /** Called as each call finishes. */
  onExchange: ((exchange: ProxyExchange) => void) | undefined
  readonly counts: ProxyCounts
  /** Faults injected, of one kind or all, for one operation or all. */
  injected(kind?: FaultKind, operation?: string): number
  /** e.g. "UpdateItem commitThen500=3 throttle=5, GetRecords hang=1" (faults only). */
  summary(): string
  /** Ends held calls and every connection; leaves no timer or socket behind. */
  close(): Promise<void>
}

export interface FaultProxyOptions {
  readonly rules?: readonly FaultRule[]
  /** Seeds the generator behind `probability`: the same seed and calls give the same faults. */
  readonly seed?: number
}

const DYNAMODB_PREFIX = 'com.amazonaws.dynamodb.v20120810#'
const FAULT_KINDS: readonly FaultKind[] = ['commitThen500', 'throttle', 'hang', 'reset', 'status5xx', 'error']

/** mulberry32: small, fast and good enough to spread faults; a seed replays the same sequence. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
  }
}

function serviceOf(target: string): FaultService {
  if (target.startsWith('DynamoDB_')) return 'dynamodb'
  if (target.startsWith('Kinesis_')) return 'kinesis'
  return 'unknown'
}

function parseObject(text: string): Record<string, unknown> {
  if (text.length === 0) return {}
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {}
  } catch {
    return {}
  }
}

/** A nested string field, e.g. stringAt(body, 'Key', 'leaseKey', 'S'). */
export function stringAt(value: unknown, ...path: string[]): string | undefined {
  let current = value
  for (const step of path) {
    if (typeof current !== 'object' || current === null) return undefined
    current = (current as Record<string, unknown>)[step]
  }
  return typeof current === 'string' ? current : undefined
}

function matches(filter: OperationFilter | undefined, request: ProxyRequest): boolean {
  if (filter === undefined) return true
  if (typeof filter === 'string') return filter === request.operation
  if (typeof filter === 'function') return filter(request)
  return (filter as readonly string[]).includes(request.operation)
}

/** The JSON error body and content type the service itself would send. */
function errorReply(service: FaultService, status: number, type: string, message: string) {
  const qualified = service === 'dynamodb' && !type.includes('#') ? `${DYNAMODB_PREFIX}${type}` : type
  const contentType = service === 'dynamodb' ? 'application/x-amz-json-1.0' : 'application/x-amz-json-1.1'
  return { status, contentType, body: JSON.stringify({ __type: qualified, message }) }
}

function faultReply(service: FaultService, fault: Fault) {
  switch (fault.kind) {
    case 'commitThen500':
      return service === 'dynamodb'
        ? errorReply(service, 500, `${DYNAMODB_PREFIX}InternalServerError`, 'Internal server error (injected)')
        : errorReply(service, 500, 'InternalFailure', 'Internal service failure (injected)')
    case 'throttle': {
      const type = fault.type ?? 'ProvisionedThroughputExceededException'
      // DynamoDB's ThrottlingException comes from the front end, not the DynamoDB model.
      const qualified =
        service === 'dynamodb' && type === 'ThrottlingException'
          ? 'com.amazon.coral.availability#ThrottlingException'
          : type
      return errorReply(service, 400, qualified, 'Rate exceeded (injected)')
    }
    case 'status5xx':
      return errorReply(
        service,
        fault.status ?? 503,
        service === 'dynamodb' ? 'com.amazon.coral.availability#ServiceUnavailableException' : 'ServiceUnavailable',
        'Service unavailable (injected)',
      )
    case 'error':
      return errorReply(service, fault.status, fault.type, fault.message ?? `${fault.type} (injected)`)
    default:
      return undefined
  }
}

interface Upstream {
  readonly status: number
  readonly headers: Record<string, string>
  readonly raw: Buffer
  readonly body: Record<string, unknown>
}

export async function startFaultProxy(upstream: string, options: FaultProxyOptions = {}): Promise<FaultProxy> {
  const target = new URL(upstream)
  const agent = new Agent({ keepAlive: true, maxSockets: 64 })
  const random = seededRandom(options.seed ?? 1)
  const remaining = new WeakMap<FaultRule, number>()
  /** Which shard each iterator handed out through us reads. */
  const iteratorShards = new Map<string, string>()
  const held = new Set<() => void>()
  const inFlight = new Set<Promise<void>>()
  const counts: ProxyCounts = {}
  let nextId = 1
  let closed = false

  const bump = (operation: string, what: 'calls' | 'forwarded' | FaultKind) => {
    counts[operation] ??= {}
    const entry = counts[operation]
    entry[what] = (entry[what] ?? 0) + 1
  }

  const proxy: FaultProxy = {
    endpoint: '',
    rules: options.rules ?? [],
    onRequest: undefined,
    onExchange: undefined,
    counts,
    injected(kind, operation) {
      let total = 0
      for (const [name, entry] of Object.entries(counts)) {
        if (operation !== undefined && name !== operation) continue
        for (const k of kind === undefined ? FAULT_KINDS : [kind]) total += entry[k] ?? 0
      }
      return total
    },
    summary() {
      const parts: string[] = []
      for (const [name, entry] of Object.entries(counts)) {
        const faults = FAULT_KINDS.filter((k) => (entry[k] ?? 0) > 0).map((k) => `${k}=${entry[k]}`)
        if (faults.length > 0) parts.push(`${name} ${faults.join(' ')}`)
      }
      return parts.length === 0 ? 'no faults' : parts.join(', ')
    },
    close: async () => {},
  }

  /** The first rule that fires for this call, drawing from the generator only for rules that match. */
  const decide = (request: ProxyRequest): FaultRule | undefined => {
    for (const rule of proxy.rules) {
      if (!matches(rule.match, request)) continue
      if (rule.times !== undefined && (remaining.get(rule) ?? rule.times) <= 0) continue
      if (rule.probability !== undefined && random() >= rule.probability) continue
      if (rule.times !== undefined) remaining.set(rule, (remaining.get(rule) ?? rule.times) - 1)
      return rule
    }
    return undefined
  }

  const shardOf = (service: FaultService, operation: string, body: Record<string, unknown>) => {
    if (service === 'dynamodb') return stringAt(body, 'Key', 'leaseKey', 'S') ?? stringAt(body, 'Item', 'leaseKey', 'S')
    if (typeof body.ShardId === 'string') return body.ShardId
    if (operation === 'GetRecords' && typeof body.ShardIterator === 'string')
      return iteratorShards.get(body.ShardIterator)
    return undefined
  }

  const learnIterators = (request: ProxyRequest, answer: Upstream) => {
    if (request.service !== 'kinesis' || answer.status !== 200 || request.shardId === undefined) return
    const iterator =
      request.operation === 'GetShardIterator'
        ? answer.body.ShardIterator
        : request.operation === 'GetRecords'
          ? answer.body.NextShardIterator
          : undefined
    if (typeof iterator === 'string') iteratorShards.set(iterator, request.shardId)
  }

  const forward = (incoming: IncomingMessage, raw: Buffer): Promise<Upstream> =>
    new Promise((resolve, reject) => {
      const headers = { ...incoming.headers, host: target.host, 'content-length': String(raw.length) }
      const outgoing = httpRequest(
        { host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers, agent },
        (response) => {
          const chunks: Buffer[] = []
          response.on('data', (chunk: Buffer) => chunks.push(chunk))
          response.on('end', () => {
            const out: Record<string, string> = {}
            for (const [name, value] of Object.entries(response.headers)) {
              if (typeof value === 'string' && name !== 'content-length' && name !== 'transfer-encoding')
                out[name] = value
            }
            const body = Buffer.concat(chunks)
            resolve({ status: response.statusCode ?? 502, headers: out, raw: body, body: parseObject(body.toString()) })
          })
          response.on('error', reject)
        },
      )
      outgoing.on('error', reject)
      outgoing.end(raw)
    })

  /** The status sent, or 'abandoned' when the client had already gone. */
  const send = (
    res: ServerResponse,
    status: number,
    headers: Record<string, string>,
    body: Buffer | string,
  ): number | 'abandoned' => {
    if (res.destroyed || res.headersSent) return 'abandoned'
    const bytes = typeof body === 'string' ? Buffer.from(body) : body
    res.writeHead(status, { ...headers, 'content-length': String(bytes.length) })
    res.end(bytes)
    return status
  }

  /** Holds the call without answering; resolves 'abandoned' when the client or the proxy ends it first. */
  const hold = (res: ServerResponse, ms: number | undefined): Promise<'reset' | 'abandoned'> =>
    new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined
      const finish = (how: 'reset' | 'abandoned') => {
        if (!held.delete(release)) return
        clearTimeout(timer)
        res.off('close', onClose)
        res.socket?.destroy()
        resolve(how)
      }
      const release = () => finish('abandoned')
      const onClose = () => finish('abandoned')
      held.add(release)
      // The client may have given up while a forwardThenHang call was still upstream.
      if (res.destroyed || res.socket === null || res.socket.destroyed) return finish('abandoned')
      res.once('close', onClose)
      if (ms !== undefined) timer = setTimeout(() => finish('reset'), ms)
    })

  const handle = async (req: IncomingMessage, res: ServerResponse, raw: Buffer): Promise<void> => {
    const targetHeader = String(req.headers['x-amz-target'] ?? '')
    const service = serviceOf(targetHeader)
    const operation = targetHeader.split('.').pop() ?? ''
    const body = parseObject(raw.toString())
    const request: ProxyRequest = {
      id: nextId++,
      service,
      operation,
      body,
      shardId: shardOf(service, operation, body),
      receivedAt: Date.now(),
    }
    bump(operation, 'calls')
    proxy.onRequest?.(request)
    const rule = decide(request)
    const fault = rule?.fault
    if (fault !== undefined) bump(operation, fault.kind)

    let answer: Upstream | undefined
    let outcome: ProxyExchange['outcome'] = 'abandoned'
    const finish = () =>
      proxy.onExchange?.({
        request,
        rule,
        fault: fault?.kind,
        upstreamStatus: answer?.status,
        upstreamBody: answer?.body,
        outcome,
        endedAt: Date.now(),
      })
    try {
      const forwarded =
        fault === undefined ||
        fault.kind === 'commitThen500' ||
        (fault.kind === 'hang' && fault.forwardThenHang === true) ||
        (fault.kind === 'reset' && fault.forwardThenReset === true)
      if (forwarded) {
        bump(operation, 'forwarded')
        answer = await forward(req, raw)
        learnIterators(request, answer)
      }
      if (fault === undefined) {
        outcome = send(res, answer!.status, answer!.headers, answer!.raw)
      } else if (fault.kind === 'hang') {
        outcome = await hold(res, fault.ms)
      } else if (fault.kind === 'reset') {
        req.socket.destroy()
        outcome = 'reset'
      } else {
        const reply = faultReply(service, fault)!
        const headers = { 'content-type': reply.contentType, 'x-amzn-requestid': `fault-${request.id}` }
        outcome = send(res, reply.status, headers, reply.body)
      }
    } catch {
      // The upstream failed or the proxy is closing: the client sees its connection drop.
      req.socket.destroy()
      outcome = 'reset'
    } finally {
      finish()
    }
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      if (closed) {
        req.socket.destroy()
        return
      }
      const done = handle(req, res, Buffer.concat(chunks)).catch(() => {})
      inFlight.add(done)
      void done.finally(() => inFlight.delete(done))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return Object.assign(proxy, {
    endpoint: `http://127.0.0.1:${port}`,
    close: async () => {
      closed = true
      for (const release of [...held]) release()
      agent.destroy()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await Promise.all([...inFlight])
    },
  })
}

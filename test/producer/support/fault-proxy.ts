import { type IncomingMessage, type ServerResponse, createServer, request } from 'node:http'
import type { AddressInfo } from 'node:net'

/** What the proxy does to PutRecords calls; everything else passes through untouched. */
export interface FaultPlan {
  /** Share (0..1) of PutRecords entries answered ProvisionedThroughputExceededException (not written). */
  throttleShare?: number
  /** The next N PutRecords entries are throttled, whatever `throttleShare` says. */
  throttleNext?: number
  /** The next N PutRecords calls get HTTP 500 InternalFailure (nothing written). */
  internalErrors?: number
  /** The next N PutRecords calls have their connection reset (nothing written). */
  resets?: number
  /** The next N PutRecords calls are forwarded (and written) only after `slowMs`: a timeout that may duplicate. */
  slowResponses?: number
  slowMs?: number
  /** Every PutRecords call fails with this error (e.g. 400 ResourceNotFoundException). */
  terminal?: { status: number; type: string } | undefined
}

export interface FaultCounts {
  putRecordsCalls: number
  throttledEntries: number
  internalErrors: number
  resets: number
  slowResponses: number
  terminal: number
}

export interface FaultProxy {
  readonly endpoint: string
  readonly counts: FaultCounts
  plan: FaultPlan
  /** Resolves once `counts` satisfy `condition` (checked whenever they change): an event to wait on. */
  until(condition: (counts: FaultCounts) => boolean): Promise<void>
  close(): Promise<void>
}

/** A deterministic random source, so a failing run can be replayed. */
function seeded(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0
    return state / 2 ** 32
  }
}

interface PutRecordsBody {
  StreamName?: string
  StreamARN?: string
  Records: unknown[]
}

interface PutRecordsResult {
  FailedRecordCount?: number
  Records: Record<string, unknown>[]
  EncryptionType?: string
}

/**
 * An HTTP/1.1 proxy on loopback between a producer and kinesis-local that injects the faults of
 * real Kinesis into PutRecords: throttled entries, 500s, connection resets, slow responses, and
 * terminal errors. Throttled entries are really not written: only the others are forwarded.
 */
export async function startFaultProxy(upstream: string, plan: FaultPlan = {}, seed = 42): Promise<FaultProxy> {
  const target = new URL(upstream)
  const random = seeded(seed)
  const counts: FaultCounts = {
    putRecordsCalls: 0,
    throttledEntries: 0,
    internalErrors: 0,
    resets: 0,
    slowResponses: 0,
    terminal: 0,
  }
  const waiters: { condition: (counts: FaultCounts) => boolean; resolve: () => void }[] = []
  const counted = () => {
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (waiters[i]!.condition(counts)) waiters.splice(i, 1)[0]!.resolve()
    }
  }
  const until = (condition: (counts: FaultCounts) => boolean) =>
    condition(counts) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ condition, resolve }))
  const proxy: FaultProxy = { endpoint: '', counts, plan, until, close: async () => {} }

  const forward = (
    incoming: IncomingMessage,
    body: Buffer,
  ): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const headers = { ...incoming.headers, host: target.host, 'content-length': String(body.length) }
      const outgoing = request(
        { host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers },
        (response) => {
          const chunks: Buffer[] = []
          response.on('data', (chunk: Buffer) => chunks.push(chunk))
          response.on('end', () => {
            const out: Record<string, string> = {}
            for (const [name, value] of Object.entries(response.headers)) {
              if (typeof value === 'string' && name !== 'content-length' && name !== 'transfer-encoding')
                out[name] = value
            }
            resolve({ status: response.statusCode ?? 500, headers: out, body: Buffer.concat(chunks) })
          })
          response.on('error', reject)
        },
      )
      outgoing.on('error', reject)
      outgoing.end(body)
    })

  const reply = (res: ServerResponse, status: number, headers: Record<string, string>, body: Buffer) => {
    res.writeHead(status, { ...headers, 'content-length': String(body.length) })
    res.end(body)
  }

  const jsonError = (res: ServerResponse, status: number, type: string) =>
    reply(
      res,
      status,
      { 'content-type': 'application/x-amz-json-1.1' },
      Buffer.from(JSON.stringify({ __type: type, message: `injected ${type}` })),
    )

  const handle = async (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const isPut = String(req.headers['x-amz-target'] ?? '').endsWith('.PutRecords')
    if (!isPut) {
      const answer = await forward(req, body)
      return reply(res, answer.status, answer.headers, answer.body)
    }
    counts.putRecordsCalls++
    const { plan } = proxy
    if (plan.terminal !== undefined) {
      counts.terminal++
      return jsonError(res, plan.terminal.status, plan.terminal.type)
    }
    if ((plan.resets ?? 0) > 0) {
      plan.resets = (plan.resets ?? 0) - 1
      counts.resets++
      req.socket.destroy()
      return
    }
    if ((plan.internalErrors ?? 0) > 0) {
      plan.internalErrors = (plan.internalErrors ?? 0) - 1
      counts.internalErrors++
      return jsonError(res, 500, 'InternalFailure')
    }
    if ((plan.slowResponses ?? 0) > 0) {
      plan.slowResponses = (plan.slowResponses ?? 0) - 1
      counts.slowResponses++
      await new Promise((resolve) => setTimeout(resolve, plan.slowMs ?? 1_000))
    }
    const share = plan.throttleShare ?? 0
    if (share <= 0 && (plan.throttleNext ?? 0) <= 0) {
      const answer = await forward(req, body)
      return reply(res, answer.status, answer.headers, answer.body)
    }
    const parsed = JSON.parse(body.toString('utf8')) as PutRecordsBody
    const throttled = parsed.Records.map(() => {
      if ((plan.throttleNext ?? 0) <= 0) return random() < share
      plan.throttleNext = (plan.throttleNext ?? 0) - 1
      return true
    })
    const survivors = parsed.Records.filter((_, i) => !throttled[i])
    let upstreamResults: Record<string, unknown>[] = []
    let headers: Record<string, string> = { 'content-type': 'application/x-amz-json-1.1' }
    if (survivors.length > 0) {
      const answer = await forward(req, Buffer.from(JSON.stringify({ ...parsed, Records: survivors })))
      if (answer.status !== 200) return reply(res, answer.status, answer.headers, answer.body)
      upstreamResults = (JSON.parse(answer.body.toString('utf8')) as PutRecordsResult).Records
      headers = answer.headers
    }
    let next = 0
    let failed = 0
    const merged = parsed.Records.map((_, i) => {
      if (!throttled[i]) {
        const result = upstreamResults[next++] ?? {}
        if (result.ErrorCode !== undefined) failed++
        return result
      }
      failed++
      counts.throttledEntries++
      return { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded for shard (injected)' }
    })
    return reply(res, 200, headers, Buffer.from(JSON.stringify({ FailedRecordCount: failed, Records: merged })))
  }
  const handleCounted = async (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    // Counted on arrival (putRecordsCalls) and again once the answer is decided.
    const answered = handle(req, res, body)
    counted()
    await answered
    counted()
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      handleCounted(req, res, Buffer.concat(chunks)).catch(() => {
        if (!res.headersSent) jsonError(res, 500, 'InternalFailure')
        else res.destroy()
      })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return Object.assign(proxy, {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  })
}

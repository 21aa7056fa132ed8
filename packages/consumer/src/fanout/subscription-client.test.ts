import { type IncomingHttpHeaders, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { KinesisClient, ListStreamsCommand } from '@aws-sdk/client-kinesis'
import { type AwsCredentials, createKinesisClient } from '@kinesis-ts/shared'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { deriveSubscriptionClient, speaksHttp2, subscriptionClientFor } from './subscription-client.js'

/** A loopback endpoint that answers ListStreams and keeps the headers of what it got. */
const seen: IncomingHttpHeaders[] = []
const server = createServer((req, res) => {
  seen.push(req.headers)
  req.resume()
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' })
    res.end(JSON.stringify({ StreamNames: [], HasMoreStreams: false }))
  })
})
let endpoint = ''
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

/** A provider that hands out a new key each call, as an assume-role provider refreshing would. */
function rotatingCredentials() {
  let calls = 0
  const provider: AwsCredentials = async () => {
    calls++
    return { accessKeyId: `AKIDROTATING${calls}`, secretAccessKey: 's', expiration: new Date(Date.now() + 1_000) }
  }
  return { provider, calls: () => calls }
}

function givenClient(credentials: AwsCredentials) {
  return createKinesisClient(
    { region: 'eu-west-3', endpoint, credentials, maxAttempts: 4 },
    { userAgentAppId: 'billing-app' },
  )
}

describe('deriveSubscriptionClient', () => {
  it("signs with the given client's credential provider and region, at its endpoint, with its user agent", async () => {
    const credentials = rotatingCredentials()
    const given = givenClient(credentials.provider)
    const derived = deriveSubscriptionClient(given, '1.1')
    seen.length = 0
    await derived.send(new ListStreamsCommand({}))
    const before = credentials.calls()
    await derived.send(new ListStreamsCommand({}))
    expect(credentials.calls()).toBeGreaterThan(before)
    expect(seen).toHaveLength(2)
    const last = seen[1]!
    expect(last.authorization).toMatch(
      new RegExp(
        `^AWS4-HMAC-SHA256 Credential=AKIDROTATING${credentials.calls()}/\\d{8}/eu-west-3/kinesis/aws4_request,`,
      ),
    )
    expect(last.host).toBe(new URL(endpoint).host)
    expect(String(last['user-agent'])).toMatch(/ app\/billing-app( |$)/)
    await expect(derived.config.region()).resolves.toBe('eu-west-3')
    // The fan-out source retries with its own backoff, not the SDK's.
    await expect(derived.config.maxAttempts()).resolves.toBe(1)
    derived.destroy()
    given.destroy()
  })

  it('has a request handler of its own, on the HTTP version asked for', () => {
    const given = givenClient(rotatingCredentials().provider)
    const http2 = deriveSubscriptionClient(given, '2')
    const http1 = deriveSubscriptionClient(given, '1.1')
    expect(http2.config.requestHandler.metadata?.handlerProtocol).toBe('h2')
    expect(http1.config.requestHandler.metadata?.handlerProtocol).toBe('http/1.1')
    expect(http2.config.requestHandler).not.toBe(given.config.requestHandler)
    expect(http1.config.requestHandler).not.toBe(given.config.requestHandler)
    http2.destroy()
    http1.destroy()
    given.destroy()
  })

  it('destroying it frees its own handler only: the given client and its credentials keep working', async () => {
    const credentials = rotatingCredentials()
    const given = givenClient(credentials.provider)
    const destroyGiven = vi.spyOn(given.config.requestHandler, 'destroy')
    const derived = deriveSubscriptionClient(given, '1.1')
    await derived.send(new ListStreamsCommand({}))
    const destroyDerived = vi.spyOn(derived.config.requestHandler, 'destroy')
    derived.destroy()
    expect(destroyDerived).toHaveBeenCalledTimes(1)
    expect(destroyGiven).not.toHaveBeenCalled()
    const before = credentials.calls()
    await expect(given.send(new ListStreamsCommand({}))).resolves.toMatchObject({ HasMoreStreams: false })
    expect(credentials.calls()).toBeGreaterThan(before)
    given.destroy()
  })
})

describe('subscriptionClientFor', () => {
  it("uses a client that speaks HTTP/2 as it is, and never as the subscription's own", () => {
    const given = new KinesisClient({ region: 'eu-west-3', endpoint, credentials: rotatingCredentials().provider })
    expect(speaksHttp2(given)).toBe(true)
    expect(subscriptionClientFor(given, '2')).toEqual({ client: given, owned: false })
    // HTTP/1.1 asked for: a derived client on an HTTP/1.1 handler.
    const http1 = subscriptionClientFor(given, '1.1')
    expect(http1.owned).toBe(true)
    expect(http1.client.config.requestHandler.metadata?.handlerProtocol).toBe('http/1.1')
    http1.client.destroy()
    given.destroy()
  })

  it('derives an HTTP/2 client of its own from an HTTP/1.1 one', () => {
    const given = givenClient(rotatingCredentials().provider)
    expect(speaksHttp2(given)).toBe(false)
    const derived = subscriptionClientFor(given, '2')
    expect(derived.owned).toBe(true)
    expect(derived.client).not.toBe(given)
    expect(speaksHttp2(derived.client)).toBe(true)
    derived.client.destroy()
    given.destroy()
  })
})

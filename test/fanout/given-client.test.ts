import { KinesisClient, ListStreamsCommand } from '@aws-sdk/client-kinesis'
import { type AwsCredentials, createKinesisClient } from '@kinesis-ts/shared'
import { afterEach, describe, expect, it } from 'vitest'
import { Fleet, putAll, waitFor } from '../consumer/support/harness.js'
import { createStream, endpoints, kinesisClient, uniqueName } from '../support/aws.js'
import { startRelay } from './support/h2-relay.js'

let cleanup: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const step of cleanup.reverse()) await step()
  cleanup = []
})

/**
 * Credentials as an assume-role provider hands them out: a new key at every call, each about to
 * expire, so the SDK asks again for every request it signs.
 */
function countingCredentials() {
  const issued = new Set<string>()
  const provider: AwsCredentials = async () => {
    const accessKeyId = `AKIDGIVEN${issued.size + 1}`
    issued.add(accessKeyId)
    return { accessKeyId, secretAccessKey: 'given-secret', expiration: new Date(Date.now() + 1_000) }
  }
  return { provider, issued }
}

const accessKeyOf = (authorization: string) => /Credential=([^/]+)\//.exec(authorization)?.[1]

interface Case {
  readonly name: string
  readonly relayProtocol: 'http1' | 'h2'
  readonly httpVersion: '1.1' | '2'
  /** The user's client, on the relay's endpoint. */
  readonly client: (endpoint: string, credentials: AwsCredentials) => KinesisClient
  /** The user's client keeps no connection between requests (the SDK's HTTP/2 default: a session per request). */
  readonly keepsNoConnection?: boolean
}

const CASES: readonly Case[] = [
  {
    name: 'an HTTP/1.1 client, subscriptions on HTTP/1.1 clients derived from it',
    relayProtocol: 'http1',
    httpVersion: '1.1',
    client: (endpoint, credentials) => createKinesisClient({ region: 'us-east-1', endpoint, credentials }),
  },
  {
    name: 'an HTTP/1.1 client, subscriptions on HTTP/2 clients derived from it',
    relayProtocol: 'h2',
    httpVersion: '2',
    client: (endpoint, credentials) => createKinesisClient({ region: 'us-east-1', endpoint, credentials }),
  },
  {
    name: "the SDK's default HTTP/2 client, subscriptions on it as it is",
    relayProtocol: 'h2',
    httpVersion: '2',
    client: (endpoint, credentials) => new KinesisClient({ region: 'us-east-1', endpoint, credentials }),
    keepsNoConnection: true,
  },
]

describe.each(CASES)('fan-out with only kinesisClient and dynamoDBClient given: $name', (c) => {
  it("subscribes where the client points, signed with the client's credential provider, and leaves the client usable", async () => {
    const admin = kinesisClient()
    const streamName = await createStream(admin, 2, 'efo-given')
    const relay = await startRelay(endpoints().kinesis, c.relayProtocol)
    cleanup.push(() => relay.close())
    const credentials = countingCredentials()
    const given = c.client(relay.endpoint, credentials.provider)
    cleanup.push(async () => {
      given.destroy()
      admin.destroy()
    })
    // No region, endpoint or credentials options: the consumer has nothing but the clients.
    const fleet = new Fleet(streamName, uniqueName('efo-given'), {
      kinesisClient: given,
      retrieval: { mode: 'fanout', httpVersion: c.httpVersion },
    })
    cleanup.push(() => fleet.close())
    const records = Array.from({ length: 40 }, (_, i) => ({
      partitionKey: `key-${i % 8}`,
      data: Buffer.from(`r-${i}`),
    }))
    await putAll(admin, streamName, records)

    const worker = await fleet.start('w')
    await waitFor('every record', () => fleet.journal.distinctData().size >= records.length, 60_000)
    expect([...fleet.journal.distinctData()].sort()).toEqual(records.map((r) => r.data.toString()).sort())

    // One subscription per shard at least, on the HTTP version asked for, each signed with a key the
    // user's provider issued.
    expect(relay.subscriptions).toBeGreaterThanOrEqual(2)
    const requests = relay.subscriptionRequests
    expect(requests.length).toBeGreaterThanOrEqual(2)
    expect(new Set(requests.map((r) => r.httpVersion))).toEqual(new Set([c.httpVersion === '2' ? '2.0' : '1.1']))
    for (const { authorization } of requests) {
      const key = accessKeyOf(authorization)
      expect(credentials.issued.has(key ?? ''), `${key} issued by the provider`).toBe(true)
    }

    // Ending the subscriptions destroyed neither the user's client nor its credential provider.
    await worker.shutdown()
    const issuedBefore = credentials.issued.size
    await expect(given.send(new ListStreamsCommand({}))).resolves.toMatchObject({ $metadata: { httpStatusCode: 200 } })
    // (The SDK asks the provider more than once per request: for signing and for the account-id endpoint.)
    expect(credentials.issued.size).toBeGreaterThan(issuedBefore)
    if (c.keepsNoConnection) {
      // The subscriptions' sessions on the user's client were their own: none outlives the consumer.
      await waitFor('every session closed', () => relay.openConnections === 0, 5_000)
    }
  })
})

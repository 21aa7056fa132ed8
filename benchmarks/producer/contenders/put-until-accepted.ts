import { type KinesisClient, PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Full-jitter exponential backoff, the policy kinesis-ts uses at its defaults (100 ms base, 5 s cap). */
export const backoffMs = (attempt: number) => Math.random() * Math.min(5_000, 100 * 2 ** attempt)

/**
 * What a peer does with a PutRecords call: send, then send again the entries that failed (throttled) or the
 * whole call when it failed (a 500), after a backoff, until every entry is accepted. The backoff grows only
 * while nothing gets through: with random throttles, nearly every call has a failed entry or two.
 */
export async function putUntilAccepted(
  client: KinesisClient,
  streamName: string,
  entries: PutRecordsRequestEntry[],
): Promise<void> {
  let pending = entries
  let attempt = 0
  for (;;) {
    try {
      const out = await client.send(new PutRecordsCommand({ StreamName: streamName, Records: pending }))
      if (!out.FailedRecordCount) return
      const failed = pending.filter((_, i) => out.Records?.[i]?.ErrorCode !== undefined)
      attempt = failed.length < pending.length ? 0 : attempt + 1
      pending = failed
    } catch {
      // A failed call wrote nothing we know of: all of it again.
      attempt++
    }
    await sleep(backoffMs(attempt))
  }
}

import type { PutRecordsCommand } from '@aws-sdk/client-kinesis'
import { type PutRecordsResult, parsePutRecordsResponse, readResponseBody } from './put-records-response.js'

const NAME = 'kinesisTsPrebuiltPutRecords'

/**
 * Makes `command` send `body` (a PutRecords JSON body built by encodePutRecordsBody from the same
 * records as the command's input) and read a successful response with parsePutRecordsResponse,
 * while the client keeps doing everything else: endpoint, credentials and signing, retries, and any
 * middleware the user added to it, which still sees the full input and the full output.
 *
 * Four middleware on the command's own stack, around the SDK's serializer and deserializer:
 * - serialize, high priority: hands the serializer the input without its records, so it encodes
 *   only the stream name (its per-byte base64 and JSON loops are most of a PutRecords' CPU), and
 *   when the client logs nothing, spares the logger middleware filtering what it will not log;
 * - serialize, low priority: puts `body` in the request the serializer built (content length and
 *   signature are computed later, from it);
 * - deserialize, low priority (next to the wire): parses a 2xx body itself and leaves the SDK's
 *   deserializer an empty one, so only its metadata is deserialized; error responses go to the SDK;
 * - deserialize, high priority: puts the parsed members into the SDK's output.
 * A serialize-step middleware of the user's sees the input without records, and a deserialize-step
 * one an emptied 2xx body.
 */
export function usePrebuiltPutRecords(command: PutRecordsCommand, body: Uint8Array): void {
  const stack = command.middlewareStack
  // Set by the parsing middleware on each attempt, taken by the merging one.
  let parsed: PutRecordsResult | undefined
  const takeParsed = () => {
    const members = parsed
    parsed = undefined
    return members
  }

  stack.add(
    (next, context) => (args) => {
      if (logsNothing(context.logger)) {
        // The SDK's logger middleware copies the whole input and output through their schema's
        // sensitive-data filter on every call, even for its NoOpLogger, which drops the copy: about
        // as much CPU per record as the serializer. Nothing is logged either way.
        context.inputFilterSensitiveLog = unfiltered
        context.outputFilterSensitiveLog = unfiltered
      }
      return next({ ...args, input: { ...args.input, Records: [] } })
    },
    { step: 'serialize', priority: 'high', name: `${NAME}Input` },
  )
  stack.add(
    (next) => (args) => {
      if (isMessage(args.request)) args.request.body = body
      return next(args)
    },
    { step: 'serialize', priority: 'low', name: `${NAME}Body` },
  )
  stack.add(
    (next) => async (args) => {
      const result = await next(args)
      const response = result.response
      if (isMessage(response) && isSuccess(response.statusCode)) {
        parsed = parsePutRecordsResponse(await readResponseBody(response.body))
        response.body = new Uint8Array(0)
      }
      return result
    },
    { step: 'deserialize', priority: 'low', name: `${NAME}Response` },
  )
  stack.add(
    (next) => async (args) => {
      takeParsed() // whatever an earlier, failed attempt left
      const result = await next(args)
      const members = takeParsed()
      if (members !== undefined && result.output !== undefined) Object.assign(result.output, members)
      return result
    },
    { step: 'deserialize', priority: 'high', name: `${NAME}Output` },
  )
}

/**
 * Whether a client logger is the SDK's default, which drops everything (the SDK tells it apart the
 * same way, by its class name).
 */
function logsNothing(logger: unknown): boolean {
  return logger === undefined || logger === null || (logger as object).constructor?.name === 'NoOpLogger'
}

function unfiltered(value: unknown): unknown {
  return value
}

/** An HTTP request or response as the SDK passes them (typed unknown in middleware). */
interface Message {
  body?: unknown
  statusCode?: unknown
}

function isMessage(value: unknown): value is Message {
  return typeof value === 'object' && value !== null && 'body' in value
}

function isSuccess(statusCode: unknown): boolean {
  return typeof statusCode === 'number' && statusCode >= 200 && statusCode < 300
}

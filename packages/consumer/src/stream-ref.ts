/**
 * The stream a consumer reads: its name (logs, shard descriptors) and, when the user gave one, its
 * ARN. A stream of another account is reachable only by ARN, so an ARN, once given, names the
 * stream in every call.
 */
export interface StreamRef {
  readonly streamName: string
  readonly streamARN?: string | undefined
}

/** The member of a Kinesis request that names the stream: StreamARN when known, else StreamName. */
export function streamParameter(stream: StreamRef): { StreamARN: string } | { StreamName: string } {
  return stream.streamARN === undefined ? { StreamName: stream.streamName } : { StreamARN: stream.streamARN }
}

/** arn:<partition>:kinesis:<region>:<12-digit account>:stream/<name> (the pattern of the Kinesis API). */
const STREAM_ARN = /^arn:aws[a-z-]*:kinesis:[a-z0-9-]+:\d{12}:stream\/([^/\s]+)$/

/** The stream name inside a Kinesis stream ARN, or undefined when `arn` is not one. */
export function streamNameOfARN(arn: string): string | undefined {
  return STREAM_ARN.exec(arn)?.[1]
}

/** The contenders by short id (the BENCH_PRODUCER_CONTENDERS knob) and the names the tables print. */
export const CONTENDER_NAMES = {
  ordered: 'kinesis-ts',
  unordered: 'kinesis-ts (preserveOrder: false)',
  peer: 'aws-kinesis-agg per shard',
  unaware: 'aws-kinesis-agg (not shard-aware)',
  naive: 'naive PutRecords',
} as const

export type ContenderId = keyof typeof CONTENDER_NAMES

export const CONTENDER_IDS = Object.keys(CONTENDER_NAMES) as ContenderId[]

/** What the parent tells a contender process (one JSON argument). */
export interface ContenderConfig {
  readonly contender: ContenderId
  readonly endpoint: string
  readonly streamName: string
  readonly total: number
  readonly bytes: number
  /** Hot partition keys; 0 for a key per record. */
  readonly keys: number
  /** Records the caller keeps handed out but unsettled. */
  readonly window: number
  readonly settleTimeoutMs: number
}

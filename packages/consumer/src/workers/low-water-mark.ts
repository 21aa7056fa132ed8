import type { ExtendedSequenceNumber, KinesisClientRecord } from '../types.js'

interface Pending {
  readonly sequence: bigint
  readonly sub: number
  readonly position: ExtendedSequenceNumber
  readonly lane: number
}

function compare(a: { sequence: bigint; sub: number }, b: { sequence: bigint; sub: number }): number {
  if (a.sequence !== b.sequence) return a.sequence < b.sequence ? -1 : 1
  return a.sub - b.sub
}

function keyOf(position: ExtendedSequenceNumber): { sequence: bigint; sub: number } {
  return { sequence: BigInt(position.sequenceNumber), sub: position.subSequenceNumber }
}

/**
 * Where a shard spread over lanes may be checkpointed: the last record such that it and every record
 * before it are done by their own lanes. A lane's checkpoint at record R says its own records up to
 * R are done (per-lane order); records of slower lanes hold the mark back until they catch up.
 */
export class LowWaterMark {
  readonly #pending: Pending[] = []
  #head = 0
  readonly #done: ({ sequence: bigint; sub: number } | undefined)[]
  readonly #lastDelivered: (ExtendedSequenceNumber | undefined)[]
  #mark: { sequence: bigint; sub: number; position: ExtendedSequenceNumber } | undefined

  constructor(lanes: number) {
    this.#done = new Array(lanes).fill(undefined)
    this.#lastDelivered = new Array(lanes).fill(undefined)
  }

  /** Records delivered to their lanes, in shard order. */
  add(records: readonly KinesisClientRecord[], lanes: readonly number[]): void {
    records.forEach((record, i) => {
      const lane = lanes[i] ?? 0
      const position = { sequenceNumber: record.sequenceNumber, subSequenceNumber: record.subSequenceNumber }
      this.#pending.push({ sequence: BigInt(record.sequenceNumber), sub: record.subSequenceNumber, position, lane })
      this.#lastDelivered[lane] = position
    })
  }

  /** The last record delivered to `lane` (a lane's "checkpoint everything"). */
  lastDelivered(lane: number): ExtendedSequenceNumber | undefined {
    return this.#lastDelivered[lane]
  }

  get mark(): ExtendedSequenceNumber | undefined {
    return this.#mark?.position
  }

  /** Records `lane` done up to `position`; returns the new mark when it moved forward. */
  complete(lane: number, position: ExtendedSequenceNumber): ExtendedSequenceNumber | undefined {
    const key = keyOf(position)
    const done = this.#done[lane]
    if (done === undefined || compare(key, done) > 0) this.#done[lane] = key
    const before = this.#mark
    for (;;) {
      const head = this.#pending[this.#head]
      if (head === undefined) break
      const laneDone = this.#done[head.lane]
      if (laneDone === undefined || compare(head, laneDone) > 0) break
      this.#head++
      // A redelivered batch repeats records already passed: the mark never goes back.
      if (this.#mark === undefined || compare(head, this.#mark) > 0) this.#mark = head
    }
    this.#compact()
    return this.#mark !== before ? this.#mark?.position : undefined
  }

  #compact(): void {
    if (this.#head > 1024 && this.#head * 2 > this.#pending.length) {
      this.#pending.splice(0, this.#head)
      this.#head = 0
    }
  }
}

import type { LeaderDecider } from './contracts.js'

/*
 * The KCL 2.x leader (Java DeterministicShuffleShardSyncLeaderDecider), which a fleet in
 * CLIENT_VERSION_UPGRADE_FROM_2X still uses: the sorted distinct lease owners shuffled by
 * java.util.Random(1947), the first one leads. Every worker, Java or TypeScript, computes the same
 * answer from the same table, so exactly one of them runs the MigrationReadyMonitor's flip.
 */

/** Java DeterministicShuffleShardSyncLeaderDecider.DETERMINISTIC_SHUFFLE_SEED. */
const SEED = 1947n
/** Java: elections every 5 minutes; a stale answer only delays the flip by one monitor run. */
const ELECTION_INTERVAL_MS = 5 * 60_000

const MULTIPLIER = 0x5deece66dn
const ADDEND = 0xbn
const MASK = (1n << 48n) - 1n

/** java.util.Random, only as far as Collections.shuffle needs it (nextInt(bound)). */
class JavaRandom {
  #seed: bigint

  constructor(seed: bigint) {
    this.#seed = (seed ^ MULTIPLIER) & MASK
  }

  #next(bits: number): number {
    this.#seed = (this.#seed * MULTIPLIER + ADDEND) & MASK
    return Number(BigInt.asIntN(32, this.#seed >> BigInt(48 - bits)))
  }

  nextInt(bound: number): number {
    if ((bound & -bound) === bound) return Number((BigInt(bound) * BigInt(this.#next(31))) >> 31n)
    for (;;) {
      const bits = this.#next(31)
      const value = bits % bound
      // Java's int overflow test (bits - val + (bound - 1) < 0): rejects the biased tail.
      if (bits - value + (bound - 1) <= 0x7fffffff) return value
    }
  }
}

/** Collections.shuffle(list, new Random(1947)) on a copy. */
export function javaShuffle<T>(items: readonly T[]): T[] {
  const out = [...items]
  const random = new JavaRandom(SEED)
  for (let i = out.length; i > 1; i--) {
    const j = random.nextInt(i)
    const swap = out[i - 1]!
    out[i - 1] = out[j]!
    out[j] = swap
  }
  return out
}

/** The leader among these lease owners (undefined: no lease is owned). Java sorts with String.compareTo (UTF-16 order). */
export function shuffleLeaderOf(owners: readonly (string | undefined)[]): string | undefined {
  const distinct = [...new Set(owners.filter((owner): owner is string => owner !== undefined))]
  distinct.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  return javaShuffle(distinct)[0]
}

export interface ShuffleLeader2xOptions {
  readonly workerId: string
  readonly listLeaseOwners: (signal: AbortSignal) => Promise<readonly (string | undefined)[]>
  readonly electionIntervalMs?: number
}

export class ShuffleLeader2x implements LeaderDecider {
  readonly #options: ShuffleLeader2xOptions
  #leader: { readonly workerId: string | undefined; readonly at: number } | undefined

  constructor(options: ShuffleLeader2xOptions) {
    this.#options = options
  }

  async isLeader(signal: AbortSignal): Promise<boolean> {
    const interval = this.#options.electionIntervalMs ?? ELECTION_INTERVAL_MS
    if (this.#leader === undefined || performance.now() - this.#leader.at >= interval) {
      const owners = await this.#options.listLeaseOwners(signal)
      this.#leader = { workerId: shuffleLeaderOf(owners), at: performance.now() }
    }
    return this.#leader.workerId === this.#options.workerId
  }
}

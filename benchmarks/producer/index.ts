/**
 * The producer as a user meets it: against a loopback Kinesis endpoint (its own process) that enforces the
 * per-shard write limits with token buckets (1000 records/s and 1 MiB/s per shard, 1 s of burst), holds every
 * answer for a round-trip delay, throttles entries and fails requests with 500s at random (seeded), and checks
 * every record it accepts: KPL aggregates opened, ids counted once, per-key order, the owning shard.
 * Every contender runs in a plain-Node process of its own on the built packages:
 * - (a) against shard limits at each round trip: delivered records/s (steady state), % of the shards' byte
 *   capacity, throttles per delivered record, order violations, lost and wrong-shard records;
 * - (b) client CPU per delivered record (process.cpuUsage of the contender), hot and unique keys, 100 B and 1 KiB;
 * - (c) peak RSS with 1M records offered (the caller keeps up to the window un-awaited), with the sampled
 *   peaks of the V8 heap and of the memory outside it, which say what to cut.
 * A contender that loses records, puts them on a shard that does not own them or stops is not ranked.
 *
 * Knobs (environment variables):
 *   BENCH_PRODUCER_PARTS           a,b,c      which parts to run
 *   BENCH_PRODUCER_CONTENDERS      all        ids: ordered, unordered, peer, unaware, naive
 *   BENCH_PRODUCER_RECORDS         300000     records of (a) and of the 100 B rows of (b); 1 KiB rows use a quarter
 *   BENCH_PRODUCER_NAIVE_RECORDS   60000      records of the naive loop (capped by the records limit, it is slow)
 *   BENCH_PRODUCER_RSS_RECORDS     1000000    records offered in (c)
 *   BENCH_PRODUCER_KEYS            2000       hot partition keys
 *   BENCH_PRODUCER_SHARDS          4          open shards, even hash ranges
 *   BENCH_PRODUCER_DELAYS_MS       20,80,200  round trips of (a)
 *   BENCH_PRODUCER_CPU_DELAY_MS    80         round trip of (b) and (c)
 *   BENCH_PRODUCER_THROTTLE_RATE   0.03       share of entries throttled at random (0 for none)
 *   BENCH_PRODUCER_ERROR_RATE      0.01       share of requests answered 500 at random (0 for none)
 *   BENCH_PRODUCER_SEED            16         seed of those draws
 *   BENCH_PRODUCER_WINDOW          50000      records the caller keeps handed out but unsettled
 *   BENCH_PRODUCER_SETTLE_TIMEOUT_S 60        wait for the last settlements; what is left is lost
 */
import { CONTENDER_IDS, CONTENDER_NAMES, type ContenderId } from './contenders/ids.js'
import { type Knobs, type Scenario, readKnobs } from './knobs.js'
import { STREAM_NAME } from './limits/endpoint.js'
import { type Verdicts, printCapacityRun, printCpuRun, printRssRun, printVerdicts } from './print.js'
import { bundleProcesses, runContender, startEndpointProcess } from './processes.js'
import { type RunResult, summarize } from './results.js'

async function measure(knobs: Knobs, contender: ContenderId, scenario: Scenario): Promise<RunResult> {
  const endpoint = await startEndpointProcess({
    shards: knobs.shards,
    total: scenario.total,
    delayMs: scenario.delayMs,
    throttleRate: knobs.throttleRate,
    errorRate: knobs.errorRate,
    seed: knobs.seed,
  })
  try {
    const report = await runContender({
      contender,
      endpoint: endpoint.endpoint,
      streamName: STREAM_NAME,
      total: scenario.total,
      bytes: scenario.bytes,
      keys: scenario.keys,
      window: knobs.window,
      settleTimeoutMs: knobs.settleTimeoutMs,
    })
    return summarize(CONTENDER_NAMES[contender], report, await endpoint.report())
  } finally {
    await endpoint.stop()
  }
}

type Runs = Map<ContenderId, RunResult>

async function measureAll(knobs: Knobs, ids: readonly ContenderId[], scenario: (id: ContenderId) => Scenario) {
  const runs: Runs = new Map()
  for (const id of ids) runs.set(id, await measure(knobs, id, scenario(id)))
  return runs
}

const KINESIS_TS: readonly ContenderId[] = ['ordered', 'unordered']

export async function run(): Promise<void> {
  const knobs = readKnobs()
  await bundleProcesses()
  const verdicts: Verdicts = []
  const wanted = (ids: readonly ContenderId[]) => ids.filter((id) => knobs.contenders.includes(id))
  const hot100 = (delayMs: number, id: ContenderId): Scenario => ({
    delayMs,
    total: id === 'naive' ? knobs.naiveRecords : knobs.records,
    bytes: 100,
    keys: knobs.keys,
  })
  console.log(
    `${knobs.shards} shards (1000 records/s and 1 MiB/s each, 1 s of burst), ${knobs.throttleRate * 100}% of entries throttled and ${knobs.errorRate * 100}% of requests failed at random (seed ${knobs.seed}); the caller keeps up to ${knobs.window.toLocaleString('en-US')} records unsettled`,
  )

  const capacityRuns = new Map<number, Runs>()
  if (knobs.parts.includes('a')) {
    for (const delayMs of knobs.delaysMs) {
      const runs = await measureAll(knobs, wanted(CONTENDER_IDS), (id) => hot100(delayMs, id))
      capacityRuns.set(delayMs, runs)
      printCapacityRun(delayMs, knobs, runs, verdicts)
    }
  }

  if (knobs.parts.includes('b')) {
    const ids = wanted([...KINESIS_TS, 'peer'])
    for (const keys of [knobs.keys, 0]) {
      for (const bytes of [100, 1024]) {
        const reused = keys === knobs.keys && bytes === 100 ? capacityRuns.get(knobs.cpuDelayMs) : undefined
        const total = bytes === 100 ? knobs.records : Math.round(knobs.records / 4)
        const runs = reused ?? (await measureAll(knobs, ids, () => ({ delayMs: knobs.cpuDelayMs, total, bytes, keys })))
        printCpuRun({ delayMs: knobs.cpuDelayMs, total, bytes, keys }, runs, verdicts)
      }
    }
  }

  if (knobs.parts.includes('c')) {
    const scenario = { delayMs: knobs.cpuDelayMs, total: knobs.rssRecords, bytes: 100, keys: knobs.keys }
    printRssRun(scenario, await measureAll(knobs, wanted(KINESIS_TS), () => scenario), verdicts)
  }
  printVerdicts(verdicts)
}

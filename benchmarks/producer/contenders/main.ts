/**
 * One producer contender in a process of its own (bundled by ../processes.ts and run by plain Node), so its
 * CPU time and peak RSS are its own: `node producer-contender.mjs '<ContenderConfig JSON>'` runs the contender
 * and prints one JSON line, a ContenderReport.
 */
import { awsKinesisAggPerShard, awsKinesisAggUnaware } from './aws-kinesis-agg.js'
import type { Contender } from './context.js'
import { Feeder } from './feeder.js'
import type { ContenderConfig, ContenderId } from './ids.js'
import { kinesisTs } from './kinesis-ts.js'
import { MemoryPeakSampler } from './memory-peaks.js'
import { naive } from './naive.js'

const CONTENDERS: Record<ContenderId, Contender> = {
  ordered: kinesisTs(true),
  unordered: kinesisTs(false),
  peer: awsKinesisAggPerShard,
  unaware: awsKinesisAggUnaware,
  naive,
}

const config = JSON.parse(process.argv[2] ?? '{}') as ContenderConfig
const contender = CONTENDERS[config.contender]
if (contender === undefined) throw new Error(`unknown contender ${config.contender}`)
const feeder = new Feeder({ total: config.total, bytes: config.bytes, keys: config.keys }, config.window)
const cpu = process.cpuUsage()
const memory = new MemoryPeakSampler()
const report = (error?: string) => {
  const used = process.cpuUsage(cpu)
  console.log(JSON.stringify(feeder.report(config.contender, used.user + used.system, memory.stop(), error)))
  // A contender that stalled or timed out may still hold sockets and timers: its report is out, nothing else matters.
  process.exit(0)
}
// A contender that stops settling (a stuck window, a hung request) is reported as it stands, not waited on
// forever. Not unref'd: it also keeps alive a process whose contender awaits something nothing will settle.
let settled = -1
let lastProgressAt = performance.now()
setInterval(() => {
  if (feeder.settled !== settled) {
    settled = feeder.settled
    lastProgressAt = performance.now()
  } else if (performance.now() - lastProgressAt > config.settleTimeoutMs) {
    report(`stalled: nothing settled for ${config.settleTimeoutMs / 1000} s`)
  }
}, 1000)
let error: string | undefined
try {
  await contender({
    feeder,
    endpoint: config.endpoint,
    streamName: config.streamName,
    settleTimeoutMs: config.settleTimeoutMs,
  })
} catch (cause) {
  error = String(cause)
}
report(error)

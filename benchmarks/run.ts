/**
 * `pnpm bench`: runs every suite (or those named in BENCH, comma-separated) and prints ratio tables.
 * Each suite lives in its own folder and exports `run()`.
 */
import { existsSync } from 'node:fs'

// The SDK's Node 22 advisory would interleave with the tables; an explicit setting still wins.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

const SUITES = ['codec', 'producer-cpu', 'producer-headers', 'producer', 'consumer', 'fanout', 'workers']
const wanted = process.env.BENCH ? process.env.BENCH.split(',').map((s) => s.trim()) : SUITES

for (const suite of SUITES.filter((name) => wanted.includes(name))) {
  const entry = new URL(`./${suite}/index.ts`, import.meta.url)
  if (!existsSync(entry)) continue
  const module = (await import(entry.href)) as { run(): Promise<void> }
  console.log(`\n## ${suite}`)
  await module.run()
}

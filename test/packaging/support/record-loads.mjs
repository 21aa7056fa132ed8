/**
 * Preloaded with `--import` (through NODE_OPTIONS, so worker threads and child processes get it too):
 * appends one line per load to the file named by KINESIS_TS_LOAD_LOG, so a test can tell what a
 * program loaded without trusting the program:
 *   dlopen <file>   a native addon (every .node file goes through process.dlopen)
 *   import <url>    a module the ESM loader resolved (hooks in ./record-resolve-hooks.mjs)
 *   require <file>  a CommonJS module in the require cache at exit (also those that import() loaded)
 */
import { appendFileSync } from 'node:fs'
import { createRequire, register } from 'node:module'
import { isMainThread } from 'node:worker_threads'

const log = process.env.KINESIS_TS_LOAD_LOG
if (log === undefined) throw new Error('record-loads.mjs needs KINESIS_TS_LOAD_LOG')

const dlopen = process.dlopen
process.dlopen = function recordedDlopen(module, filename, ...rest) {
  appendFileSync(log, `dlopen ${filename}\n`)
  return dlopen.call(this, module, filename, ...rest)
}

if (isMainThread) register('./record-resolve-hooks.mjs', import.meta.url, { data: { log } })

const cache = createRequire(import.meta.url).cache
process.on('exit', () => {
  const lines = Object.keys(cache).map((file) => `require ${file}\n`)
  appendFileSync(log, lines.join(''))
})

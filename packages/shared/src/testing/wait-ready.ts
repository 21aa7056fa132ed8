import { request } from 'node:http'
import { sleep } from '../retry/backoff.js'

/** Resolves with the HTTP status once something answers `url`. */
function probe(url: string, method: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, timeout: 1000, agent: false }, (res) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    })
    req.on('timeout', () => req.destroy(new Error('probe timed out')))
    req.on('error', reject)
    req.end()
  })
}

export interface WaitReadyOptions {
  readonly url: string
  readonly method?: string
  readonly timeoutMs: number
  /** Rejects early when the process has died. */
  readonly exited: Promise<unknown>
  readonly isReady?: (status: number) => boolean
}

/** Polls until the server answers; false on timeout or when the process exits first. */
export async function waitReady(options: WaitReadyOptions): Promise<boolean> {
  let dead = false
  void options.exited.then(() => {
    dead = true
  })
  const deadline = Date.now() + options.timeoutMs
  while (!dead && Date.now() < deadline) {
    try {
      const status = await probe(options.url, options.method ?? 'GET')
      if (options.isReady === undefined || options.isReady(status)) return true
    } catch {
      // Not listening yet.
    }
    await sleep(50)
  }
  return false
}

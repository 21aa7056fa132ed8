/**
 * Runs `fn` `rounds` times after one warm-up round and returns the best rate (items per second).
 * Best-of-N is the steadiest figure on a shared 2-core machine: noise only ever slows a round down.
 */
export async function bestRate(items: number, rounds: number, fn: () => unknown | Promise<unknown>): Promise<number> {
  await fn()
  let best = 0
  for (let round = 0; round < rounds; round++) {
    const start = performance.now()
    await fn()
    const seconds = (performance.now() - start) / 1000
    best = Math.max(best, items / seconds)
  }
  return best
}

import { sleep } from '@kinesis-ts/shared'

/**
 * What keeps a process alive or does work behind the user's back: timers, sockets, worker threads and
 * message ports, counted by kind.
 */
export function liveResources(): Map<string, number> {
  const counts = new Map<string, number>()
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1)
  return counts
}

/** Kinds that grew since `before` (a closing socket may take a few ticks: poll briefly). */
export async function grownSince(before: Map<string, number>): Promise<Record<string, number>> {
  let grown: Record<string, number> = {}
  for (let tries = 0; tries < 40; tries++) {
    grown = {}
    for (const [kind, count] of liveResources()) {
      const extra = count - (before.get(kind) ?? 0)
      if (extra > 0) grown[kind] = extra
    }
    if (Object.keys(grown).length === 0) return grown
    await sleep(50)
  }
  return grown
}

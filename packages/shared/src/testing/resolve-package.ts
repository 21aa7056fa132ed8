import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { BackendStartError } from '../errors.js'

/**
 * Finds a file of an installed package: first next to kinesis-ts, then in the user's project
 * (the backends are optional peer dependencies: installed as devDependencies where used).
 */
export function resolvePackageFile(packageName: string, file: string, backend: string): string {
  const bases = [import.meta.url, join(process.cwd(), 'package.json')]
  for (const base of bases) {
    try {
      const manifest = createRequire(base).resolve(`${packageName}/package.json`)
      return join(dirname(manifest), file)
    } catch {
      // Try the next place.
    }
  }
  throw new BackendStartError(backend, `the npm package "${packageName}" is not installed; add it as a devDependency`)
}

import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const SHARED_SRC = join(ROOT, 'packages/shared/src')

/** The IAM service prefix of each AWS SDK client package the sources use. */
const SERVICES: Readonly<Record<string, string>> = {
  '@aws-sdk/client-kinesis': 'kinesis',
  '@aws-sdk/client-dynamodb': 'dynamodb',
  '@aws-sdk/client-cloudwatch': 'cloudwatch',
}

/** The shipped sources under `dir`: .ts files, tests and test helpers left out. */
function sourcesUnder(dir: string): string[] {
  const out: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) {
      if (entry.name !== 'testing' && entry.name !== 'test-support') out.push(...sourcesUnder(path))
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
      out.push(path)
    }
  }
  return out
}

/** `./x.js` from `file` → the .ts file (or folder index) it names. */
function resolveRelative(file: string, specifier: string): string {
  const base = join(dirname(file), specifier.replace(/\.js$/, ''))
  for (const candidate of [`${base}.ts`, join(base, 'index.ts')]) if (existsSync(candidate)) return candidate
  throw new Error(`${relative(ROOT, file)}: cannot resolve ${specifier}`)
}

interface ImportClause {
  readonly names: string[]
  readonly specifier: string
  readonly typeOnly: boolean
}

/** The `import { ... } from '...'` and `export { ... } from '...'` / `export * from '...'` clauses of a file. */
function clausesOf(source: string): ImportClause[] {
  const out: ImportClause[] = []
  for (const m of source.matchAll(/^(import|export)\s+(type\s+)?(\{[^}]*\}|\*)\s*from\s*'([^']+)'/gm)) {
    const names =
      m[3] === '*'
        ? ['*']
        : m[3]!
            .slice(1, -1)
            .split(',')
            .map((n) => n.trim())
            .filter((n) => n.length > 0 && !n.startsWith('type '))
            .map((n) => n.split(/\s+as\s+/)[0]!)
    out.push({ names, specifier: m[4]!, typeOnly: m[2] !== undefined })
  }
  return out
}

/** The shared modules that define `names` (what `@kinesis-ts/shared` re-exports them from), and all `export *` modules for names found nowhere else. */
function sharedModulesOf(names: ReadonlySet<string>): string[] {
  const index = join(SHARED_SRC, 'index.ts')
  const modules = new Set<string>()
  const unresolved = new Set(names)
  const starModules: string[] = []
  for (const clause of clausesOf(readFileSync(index, 'utf8'))) {
    const module = resolveRelative(index, clause.specifier)
    if (clause.names[0] === '*') starModules.push(module)
    for (const name of clause.names) {
      if (unresolved.delete(name)) modules.add(module)
    }
  }
  if (unresolved.size > 0) for (const module of starModules) modules.add(module)
  return [...modules]
}

/** `files` and every file they import by relative path, transitively. */
function withRelativeImports(files: readonly string[]): string[] {
  const seen = new Set<string>()
  const queue = [...files]
  while (queue.length > 0) {
    const file = queue.pop()!
    if (seen.has(file)) continue
    seen.add(file)
    for (const clause of clausesOf(readFileSync(file, 'utf8'))) {
      if (clause.specifier.startsWith('.') && !clause.typeOnly) queue.push(resolveRelative(file, clause.specifier))
    }
  }
  return [...seen]
}

/**
 * The IAM actions a file's SDK commands need: every `XxxCommand` it names, under the service of the
 * `@aws-sdk/client-*` package the file imports it from, or, when the file names a single client
 * package (loaded dynamically, as the CloudWatch sink does), that package.
 */
function actionsOf(file: string): string[] {
  const source = readFileSync(file, 'utf8')
  const commands = new Set([...source.matchAll(/\b([A-Z][A-Za-z0-9]*)Command\b/g)].map((m) => m[1]!))
  if (commands.size === 0) return []
  const packages = new Set([...source.matchAll(/'(@aws-sdk\/client-[a-z0-9-]+)'/g)].map((m) => m[1]!))
  const importedFrom = new Map<string, string>()
  for (const clause of clausesOf(source)) {
    if (clause.specifier.startsWith('@aws-sdk/client-')) {
      for (const name of clause.names) importedFrom.set(name, clause.specifier)
    }
  }
  return [...commands].map((command) => {
    const pkg = importedFrom.get(`${command}Command`) ?? (packages.size === 1 ? [...packages][0]! : undefined)
    const service = pkg === undefined ? undefined : SERVICES[pkg]
    if (service === undefined) throw new Error(`${relative(ROOT, file)}: no known AWS service for ${command}Command`)
    return `${service}:${command}`
  })
}

/**
 * The IAM actions `packages/<name>` can call: the SDK commands in its sources and in the shared
 * modules it uses (through `@kinesis-ts/shared`), with the files each was found in.
 */
export function iamActionsOfPackage(name: string): Map<string, string[]> {
  const own = sourcesUnder(join(ROOT, 'packages', name, 'src'))
  const sharedNames = new Set<string>()
  for (const file of own) {
    for (const clause of clausesOf(readFileSync(file, 'utf8'))) {
      if (clause.specifier === '@kinesis-ts/shared' && !clause.typeOnly)
        for (const n of clause.names) sharedNames.add(n)
    }
  }
  const files = [...own, ...withRelativeImports(sharedModulesOf(sharedNames))]
  const actions = new Map<string, string[]>()
  for (const file of files) {
    for (const action of actionsOf(file)) actions.set(action, [...(actions.get(action) ?? []), relative(ROOT, file)])
  }
  return actions
}

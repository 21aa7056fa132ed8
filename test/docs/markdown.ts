import { readFileSync } from 'node:fs'

/** A markdown file of this repository, by its path from the repository root. */
export function readRepoFile(path: string): string {
  return readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8')
}

/** The text under a `## heading` up to the next heading of the same or a higher level. */
export function section(markdown: string, heading: string): string {
  const lines = markdown.split('\n')
  const level = heading.match(/^#+/)?.[0].length ?? 0
  const start = lines.findIndex((line) => line.trim() === heading)
  if (start < 0) throw new Error(`no "${heading}" heading`)
  const rest = lines.slice(start + 1)
  const end = rest.findIndex((line) => {
    const hashes = line.match(/^(#+) /)?.[1]
    return hashes !== undefined && hashes.length <= level
  })
  return (end < 0 ? rest : rest.slice(0, end)).join('\n')
}

/** The rows of the first table in `text`, as cell strings (header and separator rows left out). */
export function tableRows(text: string): string[][] {
  const rows: string[][] = []
  let inTable = false
  for (const line of text.split('\n')) {
    if (!line.startsWith('|')) {
      if (inTable) break
      continue
    }
    inTable = true
    rows.push(
      line
        .slice(1, line.trimEnd().endsWith('|') ? line.trimEnd().length - 1 : undefined)
        .split('|')
        .map((cell) => cell.trim()),
    )
  }
  if (rows.length < 2) throw new Error('no table found')
  return rows.slice(2)
}

/** The text of a cell without its backticks (`` `UserRecordsPut` `` → `UserRecordsPut`). */
export const unquoted = (cell: string): string => cell.replace(/^`|`$/g, '')

/** The bodies of the fenced code blocks of a language in `text`, in order. */
export function codeBlocks(text: string, language: string): string[] {
  const out: string[] = []
  const fence = new RegExp(`^\`\`\`${language}\\n([\\s\\S]*?)^\`\`\``, 'gm')
  for (const match of text.matchAll(fence)) out.push(match[1]!)
  return out
}

/** Every `` `code` `` span of `text`. */
export function codeSpans(text: string): string[] {
  return [...text.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!)
}

import { fileURLToPath } from 'node:url'
import { configDefaults, defineConfig } from 'vitest/config'

const src = (path: string) => fileURLToPath(new URL(path, import.meta.url))

// Tests run against the TypeScript sources of the workspace packages, not their builds.
const alias = [
  { find: /^@kinesis-ts\/shared\/dynamodb$/, replacement: src('./packages/shared/src/dynamodb.ts') },
  { find: /^@kinesis-ts\/shared\/opentelemetry$/, replacement: src('./packages/shared/src/opentelemetry.ts') },
  { find: /^@kinesis-ts\/shared\/testing$/, replacement: src('./packages/shared/src/testing/index.ts') },
  { find: /^@kinesis-ts\/shared$/, replacement: src('./packages/shared/src/index.ts') },
  { find: /^@kinesis-ts\/producer$/, replacement: src('./packages/producer/src/index.ts') },
  { find: /^@kinesis-ts\/consumer\/internals$/, replacement: src('./packages/consumer/src/internals.ts') },
  { find: /^@kinesis-ts\/consumer$/, replacement: src('./packages/consumer/src/index.ts') },
]

export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      {
        resolve: { alias },
        test: {
          name: 'unit',
          // test/docs: checks of the READMEs against the sources; they need no backend.
          include: ['packages/*/src/**/*.test.ts', 'benchmarks/**/*.test.ts', 'test/docs/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'test/docs/**'],
          environment: 'node',
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // Two cores: one file at a time keeps the servers responsive and results steady.
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
        },
      },
    ],
  },
})

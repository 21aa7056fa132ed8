import { defineConfig } from 'tsup'

export default defineConfig({
  // The lane worker is loaded by file path in each worker thread, so it is an entry of its own.
  entry: { index: 'src/index.ts', internals: 'src/internals.ts', 'lane-worker': 'src/workers/lane-worker.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  shims: true,
  treeshake: true,
  // p-limit is ESM only: bundled, so the CommonJS build loads on every supported Node (require(esm) came in 20.19).
  noExternal: ['p-limit', 'yocto-queue'],
})

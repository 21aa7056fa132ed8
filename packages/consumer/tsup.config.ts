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
})

import { defineConfig } from 'tsup'

// A command line, not a library: ESM only. The demo's worker-thread processor is its own entry
// because piscina loads it by file path.
export default defineConfig({
  entry: { bin: 'src/bin.ts', 'demo/worker-processor': 'src/demo/worker-processor.ts' },
  format: ['esm'],
  sourcemap: true,
  clean: true,
  target: 'node20',
  banner: { js: '#!/usr/bin/env node' },
})

import { defineConfig } from 'tsup'

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    dynamodb: 'src/dynamodb.ts',
    opentelemetry: 'src/opentelemetry.ts',
    'testing/index': 'src/testing/index.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  // import.meta.url is used to find the local backends' packages; shim it in the CJS build.
  shims: true,
  treeshake: true,
})

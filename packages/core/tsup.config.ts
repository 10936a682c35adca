import { defineConfig } from 'tsup';

const common = { entry: ['src/index.ts'], dts: true, target: 'node20', shims: true } as const;

export default defineConfig([
  { ...common, format: 'esm', clean: true },
  // p-queue is ESM-only: the CJS build carries its own copy instead of require()-ing it.
  {
    ...common,
    format: 'cjs',
    noExternal: ['p-queue'],
    banner: {
      js: '/*! Bundles p-queue and p-timeout (MIT, Sindre Sorhus) and eventemitter3 (MIT, Arnout Kazemier). */',
    },
  },
]);

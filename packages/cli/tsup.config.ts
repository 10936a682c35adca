import { defineConfig } from 'tsup';

export default defineConfig({
  // The `handover` command, and the same commands as a function (`run`) for scripts and tests.
  entry: { bin: 'src/bin.ts', index: 'src/index.ts' },
  format: ['esm'],
  // Types only for the programmatic entry: the bin has none to offer.
  dts: { entry: { index: 'src/index.ts' } },
  clean: true,
  target: 'node20',
});

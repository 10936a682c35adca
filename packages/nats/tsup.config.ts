import { defineConfig } from 'tsup';

export default defineConfig({
  // One entry per audience: the worker adapter, controller tools, the wire format.
  entry: {
    index: 'src/index.ts',
    controller: 'src/exports/controller.ts',
    wire: 'src/exports/wire.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  target: 'node20',
});

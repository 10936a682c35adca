import { fileURLToPath } from 'node:url';
import { describeHttpConformance } from '@handover/testkit';

describeHttpConformance({
  name: 'node:http',
  fixture: fileURLToPath(new URL('./fixtures/server.mjs', import.meta.url)),
  built: [
    fileURLToPath(new URL('../dist/index.js', import.meta.url)),
    fileURLToPath(new URL('../../core/dist/index.js', import.meta.url)),
  ],
});

import { fileURLToPath } from 'node:url';
import { describeHttpConformance } from '@handover/testkit';

describeHttpConformance({
  name: 'fastify',
  fixture: fileURLToPath(new URL('./fixtures/server.mjs', import.meta.url)),
  built: ['../dist/index.js', '../../http/dist/index.js', '../../core/dist/index.js'].map((path) =>
    fileURLToPath(new URL(path, import.meta.url)),
  ),
});

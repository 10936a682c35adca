// The load-balancer stage of the conformance suite: heavy, run by the `lb` test project.
import { fileURLToPath } from 'node:url';
import { describeHttpLbConformance } from '@handover/testkit';

describeHttpLbConformance({
  name: 'express',
  fixture: fileURLToPath(new URL('./fixtures/server.mjs', import.meta.url)),
  built: ['../dist/index.js', '../../http/dist/index.js', '../../core/dist/index.js'].map((path) =>
    fileURLToPath(new URL(path, import.meta.url)),
  ),
});

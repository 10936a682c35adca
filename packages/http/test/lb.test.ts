// The load-balancer stage of the conformance suite: heavy, run by the `lb` test project.
import { fileURLToPath } from 'node:url';
import { describeHttpLbConformance } from '@handover/testkit';

describeHttpLbConformance({
  name: 'node:http',
  fixture: fileURLToPath(new URL('./fixtures/server.mjs', import.meta.url)),
  built: [
    fileURLToPath(new URL('../dist/index.js', import.meta.url)),
    fileURLToPath(new URL('../../core/dist/index.js', import.meta.url)),
  ],
});

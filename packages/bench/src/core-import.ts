// The cost of importing @handover/core: a process that imports it against one that imports
// nothing (wall time of the whole process), and the import itself timed in-process.
import { fixture, runNode } from './proc.js';
import { median, report } from './stats.js';

const runs = Number(process.env.RUNS ?? 20);
const emptyWall: number[] = [];
const coreWall: number[] = [];
const coreImport: number[] = [];
for (let i = 0; i < runs; i++) {
  emptyWall.push((await runNode(fixture('empty.mjs'))).ms);
  const core = await runNode(fixture('import-core.mjs'));
  coreWall.push(core.ms);
  coreImport.push(JSON.parse(core.stdout).importNs / 1e6);
}
report(
  `core: process wall time, import @handover/core (median of ${runs})`,
  { value: median(coreWall), unit: 'ms' },
  {
    label: 'script importing nothing',
    value: median(emptyWall),
  },
);
report('core: added by the import', { value: median(coreWall) - median(emptyWall), unit: 'ms' });
report('core: import() measured in-process', { value: median(coreImport), unit: 'ms' });

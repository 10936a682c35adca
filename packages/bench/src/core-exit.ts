// SIGTERM → exit of an idle Handover worker process, median of 10, against a bare process
// that calls process.exit(0) in its SIGTERM handler, measured alternately in the same run.

import { fixture, signalToExit } from './proc.js';
import { median, report } from './stats.js';

const runs = Number(process.env.RUNS ?? 10);
const worker: number[] = [];
const bare: number[] = [];
for (let i = 0; i < runs; i++) {
  const w = await signalToExit(fixture('idle-worker.mjs'));
  if (w.code !== 0) throw new Error(`idle worker exited ${w.code}`);
  worker.push(w.ms);
  bare.push((await signalToExit(fixture('bare-signal.mjs'))).ms);
}
report(
  `core: SIGTERM -> exit, idle worker (median of ${runs})`,
  { value: median(worker), unit: 'ms' },
  {
    label: 'bare process.exit in a SIGTERM handler',
    value: median(bare),
  },
);

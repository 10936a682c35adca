// One worker's lifecycle, start to exit: warm up, take work, receive SIGTERM with work in
// flight, finish it, run shutdown hooks, exit 0. Run with `node index.mjs` after `pnpm build`.
import { createWorker } from '@handover/core';

const started = Date.now();
const at = () => `${String(Date.now() - started).padStart(5)} ms`;
const sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });

const worker = createWorker({
  service: 'example',
  version: '1.0.0',
  gracePeriodMs: 5000,
  logger: {
    debug() {},
    info() {},
    warn() {},
    error() {},
    child() {
      return this;
    },
  },
});
worker.on('state', ({ to, reason }) => console.log(`${at()}  state ${to.padEnd(8)} (${reason})`));
worker.warmup('cache', (signal) => sleep(300, signal));
worker.onShutdown('database', () => console.log(`${at()}  shutdown hook: database closed`));

await worker.start();
console.log(`${at()}  worker ${worker.id} ready, taking 4 tasks of 500 ms`);
for (let i = 1; i <= 4; i++) {
  worker
    .run((signal) => sleep(500, signal), { name: 'job', key: `job-${i}` })
    .then(() => console.log(`${at()}  job-${i} done`));
}

setTimeout(() => {
  console.log(`${at()}  sending SIGTERM to myself, as docker stop would`);
  process.kill(process.pid, 'SIGTERM');
}, 100);
worker.stopped.then((result) => {
  console.log(
    `${at()}  exiting with ${result.exitCode} after a ${result.drainMs} ms drain, nothing abandoned`,
  );
});

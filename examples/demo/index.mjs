// The rolling-update demo: a private nats-server, the controller, N workers of version 1.0.0
// under steady load, rolled to 2.0.0 the way `docker service update --update-order start-first
// --update-delay D --stop-grace-period G` does; then a report, and exit 1 if anything failed.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { watchWorkers } from '@handover/nats/controller';
import { connect } from '@nats-io/transport-node';
import { Fleet } from './fleet.mjs';
import { ackCounter, controllerLoad, jobLoad, plainLoad } from './load.mjs';
import { broker } from './nats-server.mjs';
import { htmlReport, summarize, terminalReport } from './report.mjs';

const usage = `Usage: pnpm demo [options]
  --rate N            tasks a second through the controller (default 40)
  --job-rate N        JetStream jobs a second (default 10)
  --workers N         replicas (default 3)
  --duration S        seconds of steady load before and after the update (default 3)
  --update-delay MS   pause between two replacements (default 1000)
  --grace-period MS   SIGTERM to SIGKILL, as --stop-grace-period (default 6000)
  --order ORDER       start-first (default) or stop-first
  --out DIR           where to write timeline.html (default demo-report)
  --docker            the same update in real containers on Docker Swarm
                      (pnpm demo --docker --help for its options)`;

// --docker: the same rolling update in real containers on Docker Swarm (packages/e2e).
if (process.argv.includes('--docker')) {
  const e2e = fileURLToPath(new URL('../../packages/e2e/', import.meta.url));
  const { status } = spawnSync(
    process.execPath,
    [
      join(e2e, 'node_modules/tsx/dist/cli.mjs'),
      join(e2e, 'src/swarm-demo.ts'),
      ...process.argv.slice(2),
    ],
    { stdio: 'inherit' },
  );
  process.exit(status ?? 1);
}

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '40' },
    'job-rate': { type: 'string', default: '10' },
    workers: { type: 'string', default: '3' },
    duration: { type: 'string', default: '3' },
    'update-delay': { type: 'string', default: '1000' },
    'grace-period': { type: 'string', default: '6000' },
    order: { type: 'string', default: 'start-first' },
    out: { type: 'string', default: 'demo-report' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const number = (name, min) => {
  const value = Number(values[name]);
  if (!Number.isFinite(value) || value < min) {
    console.error(`--${name} must be a number >= ${min}, got ${values[name]}\n\n${usage}`);
    process.exit(2);
  }
  return value;
};
const options = {
  rate: number('rate', 1),
  jobRate: number('job-rate', 0.1),
  workers: number('workers', 1),
  duration: number('duration', 0) * 1000,
  updateDelay: number('update-delay', 0),
  gracePeriod: number('grace-period', 1500),
  order: values.order,
};
if (!['start-first', 'stop-first'].includes(options.order)) {
  console.error(`--order must be start-first or stop-first, got ${options.order}`);
  process.exit(2);
}

const nats = await broker().catch((error) => {
  console.error(`could not start nats-server: ${error.message}`);
  process.exit(2);
});
if (!nats) {
  console.error(`The demo needs a NATS server with JetStream. Either:
  - install nats-server (Debian/Ubuntu: apt-get install nats-server; or https://github.com/nats-io/nats-server/releases) so it is on PATH, or
  - point NATS_URL at a running one started with -js, e.g. NATS_URL=nats://127.0.0.1:4222 pnpm demo`);
  process.exit(2);
}

// Whatever ends the demo (an error, Ctrl-C), it takes its processes with it.
const children = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    for (const child of children) child.kill('SIGKILL');
    await nats.stop();
    process.exit(130);
  });
}

const service = `demo-${Date.now().toString(36)}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (text) =>
  console.log(`${String(((Date.now() - t0) / 1000).toFixed(1)).padStart(5)} s  ${text}`);
const t0 = Date.now();
const nc = await connect({ servers: nats.url });
const watch = await watchWorkers(nc, service, { checkEveryMs: 50 });
await watch.loaded;
log(`broker ${nats.private ? 'started' : 'reached'} at ${nats.url}; service ${service}`);

const controller = spawn(
  process.execPath,
  [fileURLToPath(new URL('../controller/index.mjs', import.meta.url))],
  {
    env: { ...process.env, NATS_URL: nats.url, HANDOVER_SERVICE: service, PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
children.add(controller);
const port = await new Promise((res) =>
  controller.stdout.once('data', (line) => res(JSON.parse(line).port)),
);
const base = `http://127.0.0.1:${port}`;
log(`controller listening on ${base}`);

const fleet = new Fleet({
  onSpawn: (child) => children.add(child),
  url: nats.url,
  service,
  nc,
  watch,
  // The workers' own deadline fits inside the platform's grace period, as it must.
  env: {
    HANDOVER_INTAKE: 'both',
    WARMUP_MS: '800',
    TASK_MS: '20',
    HANDOVER_GRACE_PERIOD_MS: String(options.gracePeriod - 1000),
  },
});
const old = Array.from({ length: options.workers }, (_, i) => `w${i + 1}-v1`);
for (const id of old) fleet.start(id, '1.0.0');
await Promise.all(old.map((id) => fleet.ready(id)));
log(
  `${old.length} worker${old.length === 1 ? '' : 's'} of 1.0.0 ready; sending ${options.rate} tasks/s and ${options.jobRate} jobs/s`,
);

const acks = ackCounter(nc, `${service}_jobs`, service);
const loads = {
  controller: controllerLoad(base, options.rate),
  plain: plainLoad(nc, service, Math.max(1, options.rate / 2)),
  jobs: jobLoad(base, options.jobRate),
};
await sleep(options.duration);

for (let i = 0; i < old.length; i++) {
  const next = `w${i + 1}-v2`;
  if (options.order === 'start-first') {
    fleet.start(next, '2.0.0');
    await fleet.ready(next);
    log(`${next} ready in the registry; stopping ${old[i]}`);
    await fleet.stop(old[i], options.gracePeriod);
  } else {
    log(`stopping ${old[i]} first`);
    await fleet.stop(old[i], options.gracePeriod);
    fleet.start(next, '2.0.0');
    await fleet.ready(next);
  }
  const gone = fleet.workers.get(old[i]);
  log(
    `${old[i]} deregistered after a ${gone.drainMs ?? '?'} ms drain, exited ${gone.killed ? 'by SIGKILL' : gone.exitCode}`,
  );
  if (i < old.length - 1) await sleep(options.updateDelay);
}
log('update done; steady load once more');
await sleep(options.duration);
await Promise.all(Object.values(loads).map((load) => load.stop()));
const published = new Set(loads.jobs.results.filter((r) => r.ok).map((r) => r.seq));
await waitForAcks(published, 20_000);
const t1 = Date.now();

await fleet.stopAll(options.gracePeriod);
controller.kill('SIGTERM');
acks.stop();
await watch.stop();
await nc.drain();
await nats.stop();

const summary = summarize({ ...loads, acked: acks.acked });
const workers = [...fleet.workers.values()].sort((a, b) => a.spawnedAt - b.spawnedAt);
const replies = [...loads.controller.results, ...loads.plain.results];
const view = { summary, workers, replies, t0, t1, options };
console.log(`\n${terminalReport(view)}\n`);
const out = resolve(values.out);
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'timeline.html'), htmlReport(view));
console.log(`timeline: ${join(out, 'timeline.html')}`);
writeFileSync(
  join(out, 'summary.json'),
  JSON.stringify(
    { options, summary, workers: workers.map(({ child, exited, ...w }) => w) },
    null,
    2,
  ),
);

const failed =
  summary.controller.failed +
  summary.plain.failed +
  summary.jobs.lost +
  summary.jobs.failedToPublish;
if (failed > 0) {
  console.log(
    `\n${failed} failures or losses.${options.order === 'stop-first' ? ' That is what stop-first does: between the old worker leaving and the new one being ready, nobody answers; only a retrying client rides it out.' : ''}`,
  );
  process.exit(1);
}
console.log('\nNothing failed, nothing was lost.');
process.exit(0);

async function waitForAcks(seqs, ms) {
  const started = Date.now();
  while (Date.now() - started < ms && [...seqs].some((seq) => !acks.acked.has(seq)))
    await sleep(50);
}

// `pnpm demo --docker`: the rolling update of `pnpm demo`, in real containers on Docker Swarm.
// The queue worker runs as a Swarm service with the settings of examples/deploy/stack.yml; the
// load (plain NATS requests without retry, JetStream jobs) runs in a container on its overlay
// network; `docker service update --image` rolls it, `docker service scale` (optional) scales
// it. Then the report: requests, failures, jobs, unacked, exit codes, command durations, and
// each worker's timeline. Exit 1 if anything failed or was lost, 2 if Docker cannot run it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { checkDocker } from './docker.js';
import {
  deployQueueWorker,
  queueWorkerImages,
  registryMatches,
  removeQueueWorker,
} from './queue-worker.js';
import { fewestReady, phaseReport } from './report.js';
import { runPhase, runPrefix, type Step } from './scenario.js';
import { scaleService, updateService } from './swarm.js';

const usage = `Usage: pnpm demo --docker [options]
  --workers N        replicas (default 3)
  --order ORDER      start-first (default, as stack.yml) or stop-first
  --scale-to N       after the update, docker service scale to N (default: no scaling)
  --rate N           plain NATS requests a second, no retry (default 500)
  --job-rate N       JetStream jobs a second (default 100)
  --duration S       seconds of steady load before and after the commands (default 3)
  --task-ms MS       simulated work per task (default 20)
  --out DIR          where summary.json goes (default demo-report)
  --keep             leave the services running (remove them with docker service rm)
Needs the private engine: bash packages/e2e/scripts/docker.sh ensure (as root).`;

const { values } = parseArgs({
  options: {
    docker: { type: 'boolean', default: true },
    workers: { type: 'string', default: '3' },
    order: { type: 'string', default: 'start-first' },
    'scale-to': { type: 'string' },
    rate: { type: 'string', default: '500' },
    'job-rate': { type: 'string', default: '100' },
    duration: { type: 'string', default: '3' },
    'task-ms': { type: 'string', default: '20' },
    out: { type: 'string', default: 'demo-report' },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const number = (name: keyof typeof values, min: number): number => {
  const value = Number(values[name]);
  if (!Number.isFinite(value) || value < min) {
    console.error(`--${name} must be a number >= ${min}, got ${values[name]}\n\n${usage}`);
    process.exit(2);
  }
  return value;
};
const workers = number('workers', 1);
const scaleTo = values['scale-to'] === undefined ? undefined : number('scale-to', 0);
const order = values.order;
if (order !== 'start-first' && order !== 'stop-first') {
  console.error(`--order must be start-first or stop-first, got ${order}`);
  process.exit(2);
}

const t0 = Date.now();
const log = (text: string) =>
  console.log(`${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s  ${text}`);

const check = await checkDocker();
if (!check.ok) {
  console.error(check.reason);
  process.exit(2);
}
log(`Docker ${check.server} at ${check.host}`);
const images = await queueWorkerImages(['1.0.0', '2.0.0']);
log(`images ready (${images.ms} ms): ${images.worker}, ${images.nats}`);
const prefix = runPrefix();
let deployment: Awaited<ReturnType<typeof deployQueueWorker>> | undefined;
let failed = 0;
try {
  deployment = await deployQueueWorker({
    prefix,
    images,
    version: '1.0.0',
    replicas: workers,
    env: {
      HANDOVER_INTAKE: 'both',
      WARMUP_MS: '1000',
      TASK_MS: String(number('task-ms', 0)),
      HANDOVER_LOG_LEVEL: 'warn',
    },
    update: { order },
  });
  const d = deployment;
  log(
    `${d.worker}: ${workers} replica${workers === 1 ? '' : 's'} of 1.0.0 created in ${d.createMs} ms, with NATS (${d.nats})`,
  );
  await registryMatches(d, { version: '1.0.0', replicas: workers });
  log('registry: one entry per container, ids = host names');
  const steps: Step[] = [
    {
      name: `update --image 2.0.0 (${order})`,
      run: () => updateService(d.worker, ['--image', images.versions['2.0.0'] as string]),
    },
  ];
  if (scaleTo !== undefined)
    steps.push({ name: `scale to ${scaleTo}`, run: () => scaleService(d.worker, scaleTo) });
  log(
    `load: ${values.rate} requests/s and ${values['job-rate']} jobs/s; then ${steps.map((s) => s.name).join(', ')}`,
  );
  const phase = await runPhase({
    name: `Rolling update of ${workers} worker${workers === 1 ? '' : 's'} on Docker Swarm, 1.0.0 -> 2.0.0, ${order}`,
    service: d.worker,
    load: {
      image: images.node,
      network: d.network,
      natsUrl: d.natsUrl,
      service: d.service,
      rate: number('rate', 1),
      jobRate: number('job-rate', 0),
    },
    steps,
    steadyMs: number('duration', 0) * 1000,
  });
  console.log(`\n${phaseReport(phase)}`);
  console.log(
    `  fewest workers ready at once while 1.0.0 was replaced: ${fewestReady(phase.load, workers, '1.0.0')} of ${workers}\n`,
  );
  const { requests, jobs } = phase.load;
  const badExits = phase.ended.filter((t) => t.exitCode !== 0);
  failed = requests.failed + jobs.unacked + jobs.publishFailed + badExits.length;
  const out = resolve(values.out);
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'docker-summary.json'), JSON.stringify(phase, null, 2));
  console.log(`summary: ${join(out, 'docker-summary.json')}`);
  if (failed > 0)
    console.log(
      `\n${failed} failures, losses or unclean exits.${order === 'stop-first' && workers === 1 ? ' That is what stop-first does to one replica: between the old task leaving and the new one being ready, nobody answers a plain request; jobs wait in the stream.' : ''}`,
    );
  else console.log('\nNothing failed, nothing was lost, every replaced task exited 0.');
} finally {
  if (!values.keep) {
    await removeQueueWorker(prefix);
    log('services, network and volume removed');
  } else if (deployment) {
    log(
      `kept: docker service rm ${deployment.worker} ${deployment.nats}; docker network rm ${deployment.network}`,
    );
  }
}
process.exit(failed > 0 ? 1 : 0);

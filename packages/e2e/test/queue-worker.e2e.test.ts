// The seed scenario under a real orchestrator (DESIGN.md, behaviour 13): the queue worker as a
// Swarm service with the settings of examples/deploy/stack.yml, rolled with
// `docker service update --image` and scaled with `docker service scale` under load from a
// container on its overlay network. What differs from a production Swarm: docs/docker.md.
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  checkDocker,
  type Deployment,
  deployQueueWorker,
  fewestReady,
  type Phase,
  phaseReport,
  pruneImages,
  queueWorkerImages,
  registryMatches,
  removeQueueWorker,
  runPhase,
  runPrefix,
  scaleService,
  updateService,
} from '../src/index.js';
import { describeWithDocker } from './with-docker.js';

const check = await checkDocker();
const env = process.env;
const rate = Number(env.HANDOVER_E2E_RATE ?? 500);
const jobRate = Number(env.HANDOVER_E2E_JOB_RATE ?? 100);
// The shipped HEALTHCHECK unless told otherwise (a check that spawns node is slow on a loaded
// two-core machine; see docs/docker.md).
const healthTimeout = env.HANDOVER_E2E_HEALTH_TIMEOUT;
const versions = ['1.0.0', '2.0.0', '3.0.0', '4.0.0'];

/** The failures a phase must not have, with its report in every message. */
function expectNothingLost(phase: Phase, report: string): void {
  const { requests, jobs, consumer } = phase.load;
  expect(requests.sent, report).toBeGreaterThan(rate * 3);
  expect(requests.failed, report).toBe(0);
  expect(jobs.published, report).toBeGreaterThan(jobRate * 3);
  expect(jobs.publishFailed, report).toBe(0);
  expect(jobs.unacked, report).toBe(0);
  expect(jobs.acked, report).toBe(jobs.published);
  expect(consumer, report).toMatchObject({ numPending: 0, numAckPending: 0 });
}

/** Every task the phase ended exited 0 on its own (not 137: SIGKILL at stop_grace_period). */
function expectCleanExits(phase: Phase, count: number, report: string): void {
  expect(phase.ended, report).toHaveLength(count);
  for (const task of phase.ended) {
    expect(task.exitCode, report).toBe(0);
    if (task.containerExitCode !== undefined) expect(task.containerExitCode, report).toBe(0);
  }
  for (const stopped of phase.load.events.filter((e) => e.type === 'stopped'))
    expect(stopped.abandoned, report).toBe(0);
}

/** The first second answered only by `from`, the last ones only by `to`. */
function expectVersionsSwitched(phase: Phase, from: string, to: string, report: string): void {
  const answered = phase.load.seconds.filter((second) => second.ok > 0);
  expect(Object.keys(answered[0]?.versions ?? {}), report).toEqual([from]);
  expect(Object.keys(answered.at(-1)?.versions ?? {}), report).toEqual([to]);
}

describeWithDocker(check, 'the queue worker on Docker Swarm', () => {
  const prefix = runPrefix();
  let deployment: Deployment;
  const load = () => ({
    image: deployment.images.node,
    network: deployment.network,
    natsUrl: deployment.natsUrl,
    service: deployment.service,
    rate,
    jobRate,
  });
  const update = (version: string, flags: string[] = []) => ({
    name: `update --image ${version}`,
    run: () =>
      updateService(deployment.worker, [
        ...flags,
        '--image',
        deployment.images.versions[version] as string,
      ]),
  });
  const scale = (replicas: number) => ({
    name: `scale to ${replicas}`,
    run: () => scaleService(deployment.worker, replicas),
  });

  beforeAll(async () => {
    const images = await queueWorkerImages(versions);
    // Older builds of this scenario's images go; the Express scenario's stay.
    await pruneImages(
      [images.node, images.nats, images.worker, ...Object.values(images.versions)],
      ['node', 'nats', 'queue-worker'],
    );
    const deployed = await deployQueueWorker({
      prefix,
      images,
      version: '1.0.0',
      env: {
        HANDOVER_INTAKE: 'both',
        WARMUP_MS: '1000',
        TASK_MS: '20',
        HANDOVER_LOG_LEVEL: 'warn',
      },
      health: healthTimeout ? { timeout: healthTimeout } : undefined,
    });
    deployment = deployed;
    console.log(
      `[e2e] images ready in ${images.ms} ms (worker ${images.worker}; ${images.differences.join('; ')}); ` +
        `3 replicas created in ${deployed.createMs} ms`,
    );
  }, 300_000);

  afterAll(() => removeQueueWorker(prefix), 180_000);

  it('rolls 3 replicas start-first, then scales to 1, under load: 0 failed, 0 lost, every old task exits 0', async () => {
    const before = await registryMatches(deployment, { version: '1.0.0', replicas: 3 });
    expect(before.entries.map((e) => e.id).sort()).toEqual(
      before.containers.map((c) => c.hostname).sort(),
    );
    let afterUpdate = before;
    const phase = await runPhase({
      name: 'start-first: update 3 replicas 1.0.0 -> 2.0.0, then scale to 1',
      service: deployment.worker,
      load: load(),
      steps: [
        update('2.0.0'),
        {
          name: 'registry check',
          run: async () => {
            const started = Date.now();
            afterUpdate = await registryMatches(deployment, { version: '2.0.0', replicas: 3 });
            return Date.now() - started;
          },
        },
        scale(1),
      ],
    });
    const report = phaseReport(phase);
    console.log(report);
    expectNothingLost(phase, report);
    expectCleanExits(phase, 5, report); // 3 replaced, 2 scaled away
    expectVersionsSwitched(phase, '1.0.0', '2.0.0', report);
    // start-first (stack.yml): a new worker was ready before each old one began to drain.
    expect(fewestReady(phase.load, 3, '1.0.0'), report).toBe(3);
    // The registry ids are the new containers' host names, with their overlay addresses.
    expect(afterUpdate.entries.every((e) => e.version === '2.0.0')).toBe(true);
    const oldIds = new Set(before.entries.map((e) => e.id));
    expect(
      afterUpdate.entries.some((e) => oldIds.has(e.id)),
      report,
    ).toBe(false);
    await registryMatches(deployment, { version: '2.0.0', replicas: 1 });
  }, 300_000);

  it('rolls 1 replica stop-first under load: plain requests fail in the gap ("no responders"), no job is lost', async () => {
    // The first test left one replica of 2.0.0.
    const [old] = (await registryMatches(deployment, { version: '2.0.0', replicas: 1 })).entries;
    const phase = await runPhase({
      name: 'stop-first: update 1 replica 2.0.0 -> 3.0.0',
      service: deployment.worker,
      load: load(),
      steps: [update('3.0.0', ['--update-order', 'stop-first'])],
    });
    const report = phaseReport(phase);
    const { requests, jobs, consumer, events } = phase.load;
    const draining = events.find((e) => e.type === 'draining' && e.id === old?.id);
    const ready = events.find((e) => e.type === 'ready' && e.version === '3.0.0');
    const gapMs = draining && ready ? Date.parse(ready.at) - Date.parse(draining.at) : Number.NaN;
    console.log(
      `${report}\n  gap with no worker (draining of 2.0.0 -> ready of 3.0.0): ${gapMs} ms`,
    );
    // What docs/docker.md says: nobody answers between the old worker leaving and the new one
    // being ready, so a client that does not retry fails, at once ("no responders")...
    expect(requests.failed, report).toBeGreaterThan(0);
    expect(Object.keys(requests.errors), report).toEqual(['no responders']);
    expect(gapMs, report).toBeGreaterThan(0);
    expect(fewestReady(phase.load, 1, '2.0.0'), report).toBe(0);
    // ...and only then: every failure was sent inside the gap (1 s of slack for the clocks).
    for (const failure of requests.failures) {
      expect(failure.sentAt, report).toBeGreaterThanOrEqual(Date.parse(draining?.at ?? '') - 1000);
      expect(failure.sentAt, report).toBeLessThanOrEqual(Date.parse(ready?.at ?? '') + 1000);
    }
    // JetStream jobs simply wait in the stream: none is lost.
    expect(jobs.publishFailed, report).toBe(0);
    expect(jobs.unacked, report).toBe(0);
    expect(consumer, report).toMatchObject({ numPending: 0, numAckPending: 0 });
    expectCleanExits(phase, 1, report);
    await registryMatches(deployment, { version: '3.0.0', replicas: 1 });
  }, 300_000);
  it('rolls 3 replicas stop-first under load: still 0 failed, 0 lost (two others answer in each gap)', async () => {
    const scaleMs = await scaleService(deployment.worker, 3);
    await registryMatches(deployment, { version: '3.0.0', replicas: 3 });
    const phase = await runPhase({
      name: `stop-first: update 3 replicas 3.0.0 -> 4.0.0 (scaled 1 -> 3 in ${scaleMs} ms before)`,
      service: deployment.worker,
      load: load(),
      steps: [update('4.0.0')], // the service kept --update-order stop-first
    });
    const report = phaseReport(phase);
    console.log(report);
    expectNothingLost(phase, report);
    expectCleanExits(phase, 3, report);
    expectVersionsSwitched(phase, '3.0.0', '4.0.0', report);
    expect(fewestReady(phase.load, 3, '3.0.0'), report).toBe(2);
    await registryMatches(deployment, { version: '4.0.0', replicas: 3 });
  }, 300_000);
});

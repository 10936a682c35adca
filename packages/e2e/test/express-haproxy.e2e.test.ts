// The Express app of examples/express-app as a Swarm service behind HAProxy (issue 14), with
// the settings of examples/express-app/stack.yml and haproxy.cfg as shipped: HAProxy finds the
// tasks through Docker's DNS (server-template, resolvers on 127.0.0.11) and checks /readyz every
// 250 ms. GET and POST load from a container on the overlay network, through HAProxy, without
// retry, while `docker service update --image` rolls the app and `docker service scale` takes
// it from 3 to 1. What differs from a production Swarm: docs/docker.md.
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  checkDocker,
  deployExpress,
  docker,
  type EndedTask,
  type ExpressDeployment,
  expressImages,
  type HttpLoadSummary,
  haproxyEvents,
  httpPhaseReport,
  probeHttp,
  pruneImages,
  removeExpress,
  runningContainers,
  runPhaseWith,
  runPrefix,
  scaleService,
  startHttpLoad,
  updateService,
} from '../src/index.js';
import { describeWithDocker } from './with-docker.js';

const check = await checkDocker();
const env = process.env;
const rate = Number(env.HANDOVER_E2E_HTTP_RATE ?? 1000);
const healthTimeout = env.HANDOVER_E2E_HEALTH_TIMEOUT;

/** A meaningful load of both methods, and not one failed request of any kind. */
function expectNoFailure(load: HttpLoadSummary, report: string): void {
  const { GET, POST } = load.requests;
  const seconds = load.sendingMs / 1000;
  // Both methods, at (nearly) the asked rate, through every step.
  expect(GET.sent, report).toBeGreaterThan((rate / 2) * seconds * 0.9);
  expect(POST.sent, report).toBeGreaterThan((rate / 2) * seconds * 0.9);
  // No 5xx, no reset connection, no failure of any kind, and every request answered.
  for (const m of [GET, POST]) {
    expect(m.fiveXx, report).toBe(0);
    expect(m.resets, report).toBe(0);
    expect(m.errors, report).toEqual({});
    expect(m.ok, report).toBe(m.sent);
  }
  expect(load.unanswered, report).toBe(0);
  // Every POST an app served was answered once: per process, a range of order numbers with no
  // gap and no number twice (an app that began before the load began its range earlier).
  for (const [worker, o] of Object.entries(load.orders))
    expect([worker, o.count, o.duplicates], report).toEqual([worker, o.max - o.min + 1, 0]);
}

/** `count` tasks ended, each exited 0 on its own (not 137: SIGKILL at stop_grace_period). */
function expectCleanExits(ended: readonly EndedTask[], count: number, report: string): void {
  expect(ended, report).toHaveLength(count);
  for (const task of ended) {
    expect(task.exitCode, report).toBe(0);
    if (task.containerExitCode !== undefined) expect(task.containerExitCode, report).toBe(0);
  }
}

describeWithDocker(check, 'the Express app behind HAProxy on Docker Swarm', () => {
  const prefix = runPrefix();
  let deployment: ExpressDeployment;

  beforeAll(async () => {
    const images = await expressImages(['1.0.0', '2.0.0']);
    // Older builds of this scenario's images go; the queue worker's stay.
    await pruneImages(
      [images.haproxy, images.web, ...Object.values(images.versions)],
      ['express-app', 'haproxy'],
    );
    deployment = await deployExpress({
      prefix,
      images,
      version: '1.0.0',
      env: { WARMUP_MS: '1000', HANDOVER_LOG_LEVEL: 'warn' },
      health: healthTimeout ? { timeout: healthTimeout } : undefined,
    });
    console.log(
      `[e2e] images ready in ${images.ms} ms (app ${images.web}, HAProxy ${images.haproxy}; ${images.differences.join('; ')}); ` +
        `3 replicas and HAProxy created in ${deployment.createMs} ms`,
    );
  }, 300_000);

  afterAll(() => removeExpress(prefix), 180_000);

  it('rolls 3 replicas start-first, then scales to 1, under GET and POST load: 0 5xx, 0 resets, every old task exits 0', async () => {
    const { images, network, target } = deployment;
    // HAProxy found the three tasks through Docker's DNS and found them ready.
    const before = await probeHttp({ image: images.node, network, target, workers: 3 });
    expect(Object.values(before.seen)).toEqual(['1.0.0', '1.0.0', '1.0.0']);
    const started = Date.now();
    const phase = await runPhaseWith({
      name: `start-first behind HAProxy: update 3 replicas 1.0.0 -> 2.0.0, then scale to 1, at ${rate} requests/s`,
      service: deployment.web,
      start: () => startHttpLoad({ image: images.node, network, target, rate }),
      steps: [
        {
          name: 'update --image 2.0.0',
          run: () => updateService(deployment.web, ['--image', images.versions['2.0.0'] as string]),
        },
        { name: 'scale to 1', run: () => scaleService(deployment.web, 1) },
      ],
    });
    const lbEvents = await haproxyEvents(deployment.lb, started);
    const report = httpPhaseReport(phase, lbEvents);
    console.log(report);
    expectNoFailure(phase.load, report);
    // 3 tasks replaced and 2 scaled away, each exited 0 on its own (not 137 at the grace period).
    expectCleanExits(phase.ended, 5, report);
    // Both versions served: the first second by 1.0.0 only, the last ones by 2.0.0 only.
    const answered = phase.load.seconds.filter((second) => second.ok > 0);
    expect(Object.keys(answered[0]?.versions ?? {}), report).toEqual(['1.0.0']);
    expect(Object.keys(answered.at(-1)?.versions ?? {}), report).toEqual(['2.0.0']);
    // HAProxy followed the roll: each of the 5 tasks that ended left its rotation (its name no
    // longer resolved, or its /readyz failed), and it never had no server left.
    const out = lbEvents.filter((e) => /is DOWN|going DOWN|enters maintenance/.test(e));
    expect(out.length, report).toBeGreaterThanOrEqual(5);
    expect(
      lbEvents.filter((e) => /\b0 active and 0 backup servers left/.test(e)),
      report,
    ).toEqual([]);
    // And it still reaches the one task left.
    await probeHttp({ image: images.node, network, target, workers: 1, version: '2.0.0' });
  }, 300_000);

  it('takes a task that drains on its own out on its /readyz, before it stops accepting: 0 5xx, 0 resets', async () => {
    // A drain Swarm did not start (SIGTERM from outside, as the drain endpoint or a broken
    // component would): the task's address stays in Docker's DNS until it exits, so only the
    // /readyz check can take it out of HAProxy's rotation within the drain delay.
    const { images, network, target } = deployment;
    const scaleMs = await scaleService(deployment.web, 3);
    await probeHttp({ image: images.node, network, target, workers: 3, version: '2.0.0' });
    const [victim] = await runningContainers(deployment.web);
    if (!victim) throw new Error('no running task to drain');
    const started = Date.now();
    const phase = await runPhaseWith({
      name: `a drain Swarm did not start: SIGTERM to ${victim.hostname} from outside, 3 replicas (scaled 1 -> 3 in ${(scaleMs / 1000).toFixed(1)} s before), at ${rate} requests/s`,
      service: deployment.web,
      start: () => startHttpLoad({ image: images.node, network, target, rate }),
      steps: [
        {
          name: 'kill --signal TERM, until it exited',
          run: async () => {
            const t = Date.now();
            await docker(['kill', '--signal', 'TERM', victim.id]);
            await docker(['wait', victim.id], { timeoutMs: 60_000 });
            return Date.now() - t;
          },
        },
      ],
    });
    const lbEvents = await haproxyEvents(deployment.lb, started);
    const report = httpPhaseReport(phase, lbEvents);
    console.log(report);
    expectNoFailure(phase.load, report);
    expectCleanExits(phase.ended, 1, report);
    // HAProxy took it out on a failed /readyz (503), before its name stopped resolving.
    const out = lbEvents.filter((e) => /is DOWN|going DOWN|enters maintenance/.test(e));
    expect(out[0], report).toMatch(/is DOWN, reason: Layer7 wrong status, code: 503/);
    expect(
      lbEvents.filter((e) => /\b0 active and 0 backup servers left/.test(e)),
      report,
    ).toEqual([]);
  }, 300_000);
});

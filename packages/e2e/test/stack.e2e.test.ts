// examples/deploy/stack.yml as a user deploys it (`docker stack deploy`), with an override file
// for what this machine needs, then the documented rolling update under load. The differences
// from a production Swarm are listed in docs/docker.md.
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  checkDocker,
  deployStack,
  phaseReport,
  type QueueWorkerImages,
  queueWorkerImages,
  readStack,
  registryMatches,
  removeStack,
  runPhase,
  runPrefix,
  updateService,
  waitHealthy,
  writeOverride,
} from '../src/index.js';
import { describeWithDocker } from './with-docker.js';

const check = await checkDocker();
const rate = Number(process.env.HANDOVER_E2E_RATE ?? 500);

describeWithDocker(check, 'examples/deploy/stack.yml under docker stack deploy', () => {
  const stack = runPrefix();
  let images: QueueWorkerImages;
  // The shipped file, as the user wrote it: its NATS_URL (the service name on the stack's
  // network), its service name and replicas are what the test uses.
  const shipped = readStack().services.worker as {
    environment: Record<string, string>;
    deploy: { replicas: number };
  };
  const target = () => ({
    worker: `${stack}_worker`,
    network: `${stack}_default`,
    natsUrl: shipped.environment.NATS_URL as string,
    service: shipped.environment.HANDOVER_SERVICE as string,
    images,
  });

  beforeAll(async () => {
    images = await queueWorkerImages(['1.0.0', '2.0.0']);
    // Only what this machine needs: images built here (no registry), dnsrr for the NATS
    // nodes (the service VIP is not reachable here), an attachable network for the load
    // container. The three NATS nodes of the shipped stack are deployed as they are.
    const natsNodes = Object.keys(readStack().services).filter((name) => name.startsWith('nats'));
    const override = writeOverride(stack, {
      version: '3.8',
      services: {
        ...Object.fromEntries(
          natsNodes.map((name) => [
            name,
            { image: images.nats, deploy: { endpoint_mode: 'dnsrr' } },
          ]),
        ),
        worker: { image: images.versions['1.0.0'] },
      },
      networks: { default: { driver: 'overlay', attachable: true } },
    });
    const deployMs = await deployStack(stack, ['examples/deploy/stack.yml', override]);
    const replicas = shipped.deploy.replicas;
    const healthyMs = await waitHealthy(`${stack}_worker`, replicas);
    console.log(
      `[e2e] stack ${stack} deployed in ${deployMs} ms, ${replicas} workers healthy ${healthyMs} ms later`,
    );
  }, 300_000);

  afterAll(async () => {
    await removeStack(stack, ['worker']);
  }, 180_000);

  it('rolls the worker to a new image under load: 0 failed requests, every old task exits 0, ids = host names', async () => {
    await registryMatches(target(), { version: '1.0.0', replicas: shipped.deploy.replicas });
    const phase = await runPhase({
      name: `stack ${stack}: docker service update --image 2.0.0 ${stack}_worker`,
      service: `${stack}_worker`,
      // The stack's worker takes requests only (HANDOVER_INTAKE is not set): no jobs.
      load: { ...target(), image: images.node, rate, jobRate: 0 },
      steps: [
        {
          name: 'update --image 2.0.0',
          // The version comes with the image (the Dockerfile's VERSION build argument): the
          // documented update is the new image alone.
          run: () =>
            updateService(`${stack}_worker`, ['--image', images.versions['2.0.0'] as string]),
        },
      ],
    });
    const report = phaseReport(phase);
    console.log(report);
    expect(phase.load.requests.sent, report).toBeGreaterThan(rate * 3);
    expect(phase.load.requests.failed, report).toBe(0);
    expect(phase.ended, report).toHaveLength(shipped.deploy.replicas);
    for (const task of phase.ended) expect(task.exitCode, report).toBe(0);
    const answered = phase.load.seconds.filter((second) => second.ok > 0);
    expect(Object.keys(answered.at(-1)?.versions ?? {}), report).toEqual(['2.0.0']);
    await registryMatches(target(), { version: '2.0.0', replicas: shipped.deploy.replicas });
  }, 300_000);
});

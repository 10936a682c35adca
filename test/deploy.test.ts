import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { timingDefaults } from '@handover/core';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';

const read = (name: string) =>
  readFileSync(fileURLToPath(new URL(`../examples/deploy/${name}`, import.meta.url)), 'utf8');
/** `10s`, `1m30s`, `500ms` → milliseconds (Docker's duration format). */
function durationMs(text: string): number {
  let total = 0;
  for (const [, n, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) {
    total +=
      Number(n) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit as 'ms' | 's' | 'm' | 'h'];
  }
  return total;
}
// The probe paths @handover/http serves by default.
const probes = { livez: '/livez', readyz: '/readyz', startupz: '/startupz', healthz: '/healthz' };

describe('examples/deploy/stack.yml (Docker Swarm)', () => {
  const stack = parse(read('stack.yml'));
  const worker = stack.services.worker;

  it('rolls start-first, one task at a time', () => {
    expect(worker.deploy.update_config).toMatchObject({ order: 'start-first', parallelism: 1 });
    expect(worker.deploy.rollback_config.order).toBe('start-first');
  });

  it("lets the worker's grace period end before Swarm's SIGKILL", () => {
    const platform = durationMs(worker.stop_grace_period);
    const sdk = Number(
      worker.environment.HANDOVER_GRACE_PERIOD_MS ?? timingDefaults.gracePeriodMs.other,
    );
    expect(sdk).toBe(timingDefaults.gracePeriodMs.other);
    expect(
      platform - sdk,
      `stop_grace_period ${platform} ms vs worker ${sdk} ms`,
    ).toBeGreaterThanOrEqual(1000);
  });
});

describe('examples/deploy/kubernetes.yaml', () => {
  const docs = parseAllDocuments(read('kubernetes.yaml')).map((d) => d.toJS());
  const deployment = docs.find((d) => d.kind === 'Deployment');
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];

  it('never takes a pod away before its replacement is ready', () => {
    expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
    expect(deployment.spec.strategy.rollingUpdate.maxSurge).toBeGreaterThanOrEqual(1);
  });

  it("lets the worker's grace period end before the kubelet's SIGKILL", () => {
    const platform = pod.terminationGracePeriodSeconds * 1000;
    const sdk = timingDefaults.gracePeriodMs.kubernetes;
    expect(container.env.some((e: { name: string }) => e.name === 'HANDOVER_GRACE_PERIOD_MS')).toBe(
      false,
    );
    expect(
      platform - sdk,
      `terminationGracePeriodSeconds ${platform} ms vs worker ${sdk} ms`,
    ).toBeGreaterThanOrEqual(1000);
  });

  it('probes the paths the SDK serves, on the port the worker listens on', () => {
    const port = container.env.find((e: { name: string }) => e.name === 'PROBE_PORT').value;
    expect(container.ports).toContainEqual({ name: 'probes', containerPort: Number(port) });
    expect(container.startupProbe.httpGet).toEqual({ path: probes.startupz, port: 'probes' });
    expect(container.readinessProbe.httpGet).toEqual({ path: probes.readyz, port: 'probes' });
    expect(container.livenessProbe.httpGet).toEqual({ path: probes.livez, port: 'probes' });
    // A startup probe that gives up before the warm-up timeout would kill slow warm-ups.
    const startupMs =
      container.startupProbe.periodSeconds * container.startupProbe.failureThreshold * 1000;
    expect(startupMs).toBeGreaterThanOrEqual(timingDefaults.warmupTimeoutMs);
  });

  it('calls the loopback drain endpoint from preStop', () => {
    const command = container.lifecycle.preStop.exec.command.join(' ');
    const port = container.env.find((e: { name: string }) => e.name === 'PROBE_PORT').value;
    expect(command).toContain(`http://127.0.0.1:${port}/drain`);
    expect(container.env).toContainEqual({ name: 'DRAIN_ENDPOINT', value: 'loopback' });
  });
});

describe('examples/deploy/Dockerfile', () => {
  const dockerfile = read('Dockerfile');

  it('runs node itself as PID 1 (exec form), so SIGTERM reaches the worker', () => {
    expect(dockerfile).toMatch(/^CMD \["node", "index\.mjs"\]$/m);
    expect(dockerfile).not.toMatch(/^CMD .*npm/m);
  });

  it('checks health on /healthz', () => {
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n?.*\/healthz/m);
  });
});

describe('the NATS of the deployment files', () => {
  const list = (url: string) => url.split(',').map((u) => u.trim());

  it('is a 3-node cluster in the Swarm stack, every node routed to all and named in NATS_URL', () => {
    const stack = parse(read('stack.yml'));
    const nodes = Object.keys(stack.services).filter((name) => name.startsWith('nats'));
    expect(nodes).toHaveLength(3);
    for (const name of nodes) {
      const args: string[] = stack.services[name].command;
      expect(args).toContain('-js');
      expect(args[args.indexOf('--routes') + 1]).toBe(
        nodes.map((n) => `nats://${n}:6222`).join(','),
      );
    }
    expect(list(stack.services.worker.environment.NATS_URL)).toEqual(
      nodes.map((n) => `nats://${n}:4222`),
    );
  });

  it('is a 3-node StatefulSet in Kubernetes, with lame duck on preStop, named in NATS_URL', () => {
    const docs = parseAllDocuments(read('kubernetes.yaml')).map((d) => d.toJS());
    const nats = docs.find((d) => d.kind === 'StatefulSet' && d.metadata.name === 'nats');
    expect(nats.spec.replicas).toBe(3);
    const container = nats.spec.template.spec.containers[0];
    expect(container.args).toContain('-js');
    expect(container.lifecycle.preStop.exec.command.join(' ')).toContain('ldm');
    const worker = docs.find((d) => d.kind === 'Deployment').spec.template.spec.containers[0];
    const url = worker.env.find((e: { name: string }) => e.name === 'NATS_URL').value;
    expect(list(url)).toEqual([0, 1, 2].map((i) => `nats://nats-${i}.nats:4222`));
  });
});

describe('examples/express-app: stack.yml, haproxy.cfg and Dockerfile (Docker Swarm)', () => {
  const file = (name: string) =>
    readFileSync(
      fileURLToPath(new URL(`../examples/express-app/${name}`, import.meta.url)),
      'utf8',
    );
  const stack = parse(file('stack.yml'));
  const web = stack.services.web;
  const haproxy = file('haproxy.cfg');
  const setting = (pattern: RegExp) => pattern.exec(haproxy)?.[1];

  it('rolls start-first, one task at a time, and lets the app exit before SIGKILL', () => {
    expect(web.deploy.update_config).toMatchObject({ order: 'start-first', parallelism: 1 });
    const platform = durationMs(web.stop_grace_period);
    const sdk = Number(web.environment.HANDOVER_GRACE_PERIOD_MS);
    expect(platform - sdk).toBeGreaterThanOrEqual(1000);
    expect(
      Number(web.environment.HANDOVER_DRAIN_DELAY_MS) + timingDefaults.shutdownReserveMs,
    ).toBeLessThan(sdk);
  });

  it('gives HAProxy the tasks by DNS and checks /readyz; the drain delay outlasts fall x inter', () => {
    expect(web.deploy.endpoint_mode).toBe('dnsrr');
    expect(haproxy).toMatch(/^\s*nameserver \S+ 127\.0\.0\.11:53$/m);
    expect(haproxy).toMatch(/^\s*server-template web \d+ web:3000$/m);
    expect(setting(/^\s*option httpchk GET (\S+)$/m)).toBe(probes.readyz);
    expect(setting(/^\s*http-reuse (\S+)$/m)).toBeDefined();
    const inter = durationMs(setting(/\binter (\S+)/) ?? '2s');
    const fall = Number(setting(/\bfall (\d+)/) ?? 3);
    const delay = Number(web.environment.HANDOVER_DRAIN_DELAY_MS);
    expect(delay, `drain delay ${delay} ms vs ${fall} x ${inter} ms`).toBeGreaterThanOrEqual(
      fall * inter,
    );
    expect(delay).toBeGreaterThanOrEqual(2 * inter);
    // The config that the stack mounts is this file, where the official image reads it.
    expect(stack.services.lb.configs).toEqual([
      { source: 'haproxy', target: '/usr/local/etc/haproxy/haproxy.cfg' },
    ]);
    expect(stack.configs.haproxy.file).toBe('./haproxy.cfg');
  });

  it('runs node as PID 1 and checks health on /healthz of the app port', () => {
    const dockerfile = file('Dockerfile');
    expect(dockerfile).toMatch(/^CMD \["node", "index\.mjs"\]$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n?.*PORT.*\/healthz/m);
    expect(dockerfile).toMatch(/PORT=3000/);
  });
});

import { describe, expect, it } from 'vitest';
import { serviceFromCompose } from './compose.js';
import { readExpressStack } from './express-haproxy.js';
import { readStack, withoutClusterArgs } from './queue-worker.js';
import { serviceArgs } from './swarm.js';

const overrides = { name: 'x-worker', networks: ['x-net'], volumePrefix: 'x-' };

describe('serviceFromCompose', () => {
  it("carries stack.yml's rolling-update settings to docker service create", () => {
    const spec = serviceFromCompose(
      readStack().services.worker as Record<string, unknown>,
      overrides,
    );
    expect(spec).toMatchObject({
      replicas: 3,
      stopGracePeriod: '10s',
      update: { order: 'start-first', parallelism: 1, delay: '2s', monitor: '10s' },
      rollback: { order: 'start-first', parallelism: 1 },
      restart: { condition: 'on-failure', delay: '2s' },
    });
    const args = serviceArgs(spec);
    for (const flag of [
      '--update-order',
      '--update-delay',
      '--stop-grace-period',
      '--rollback-order',
    ])
      expect(args).toContain(flag);
    expect(args.at(-1)).toBe(spec.image);
  });

  it('prefixes named volumes as docker stack deploy does', () => {
    const spec = serviceFromCompose(
      readStack().services.nats1 as Record<string, unknown>,
      overrides,
    );
    expect(spec.mounts).toEqual(['type=volume,source=x-nats1-data,target=/data']);
    expect(withoutClusterArgs(spec.args ?? [])).toEqual(['-js', '-sd', '/data']);
  });

  it("maps the Express stack's HAProxy: its config, prefixed like a volume, and its port", () => {
    const spec = serviceFromCompose(
      readExpressStack().services.lb as Record<string, unknown>,
      overrides,
    );
    expect(spec.configs).toEqual(['source=x-haproxy,target=/usr/local/etc/haproxy/haproxy.cfg']);
    expect(spec.publish).toEqual(['8080:8080']);
    const args = serviceArgs(spec);
    expect(args).toContain('--config');
    expect(args).toContain('--publish');
  });

  it('refuses a setting it cannot map rather than dropping it', () => {
    expect(() => serviceFromCompose({ image: 'a', init: true }, overrides)).toThrow(
      /Expected a compose service to have only .*, got init/,
    );
  });
});

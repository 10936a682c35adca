import { captureLogger } from '@handover/testkit';
import { TimeoutError } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { apiError } from '../test/js-errors.js';
import { preferredReplicas, ReplicaPolicy } from './replicas.js';

const bucket = { kind: 'bucket', name: 'handover_orders' } as const;
const stream = { kind: 'stream', name: 'orders_jobs' } as const;

describe('preferredReplicas', () => {
  it('asks for 3 when INFO names a cluster, else 1', () => {
    expect(preferredReplicas({ cluster: 'east' })).toBe(3);
    expect(preferredReplicas({})).toBe(1);
    expect(preferredReplicas(undefined)).toBe(1);
  });
});

describe('ReplicaPolicy', () => {
  it('creates with 3 on a cluster that can place them, without a warning', async () => {
    const logger = captureLogger();
    const policy = new ReplicaPolicy({ cluster: 'east' }, logger);
    const asked: number[] = [];
    await policy.create(bucket, async (r) => asked.push(r));
    expect(asked).toEqual([3]);
    expect(logger.entries).toEqual([]);
  });

  it.each([
    ['a 2-node cluster', apiError(400, 10005, 'no suitable peers for placement')],
    [
      'a non-clustered server',
      apiError(500, 10074, 'replicas > 1 not supported in non-clustered mode'),
    ],
    ['no room', apiError(503, 10023, 'insufficient resources')],
  ])(
    'falls back to 1 on %s, warns once with the fix, and asks for 1 from then on',
    async (_, error) => {
      const logger = captureLogger();
      const policy = new ReplicaPolicy({ cluster: 'east' }, logger);
      const asked: number[] = [];
      const create = async (r: number) => {
        asked.push(r);
        if (r === 3) throw error;
        return r;
      };
      expect(await policy.create(bucket, create)).toBe(1);
      await policy.create(bucket, create);
      expect(asked).toEqual([3, 1, 1]);
      expect(policy.wanted).toBe(1);
      expect(logger.entries).toHaveLength(1);
      expect(logger.entries[0]).toMatchObject({
        level: 'warn',
        fields: { bucket: 'handover_orders', replicas: 1, wanted: 3 },
        message: expect.stringContaining('nats stream edit KV_handover_orders --replicas 3'),
      });
    },
  );

  it('throws what is not about placement, and a node that is only down', async () => {
    const policy = new ReplicaPolicy({ cluster: 'east' }, captureLogger());
    const offline = apiError(400, 10005, 'no suitable peers for placement, peer offline');
    await expect(policy.create(stream, () => Promise.reject(offline))).rejects.toBe(offline);
    const timeout = new TimeoutError();
    await expect(policy.create(stream, () => Promise.reject(timeout))).rejects.toBe(timeout);
    expect(policy.wanted).toBe(3);
  });

  it('warns once about an existing asset with fewer replicas than it could have', () => {
    const logger = captureLogger();
    const policy = new ReplicaPolicy({ cluster: 'east' }, logger);
    policy.check(stream, 1);
    policy.check(stream, 1);
    policy.check(bucket, 3);
    expect(logger.entries).toHaveLength(1);
    expect(logger.entries[0]?.message).toMatch(
      /orders_jobs has 1 replica.*nats stream edit orders_jobs --replicas 3/,
    );
  });

  it('says nothing about R1 on a single server', () => {
    const logger = captureLogger();
    new ReplicaPolicy({}, logger).check(bucket, 1);
    expect(logger.entries).toEqual([]);
  });
});

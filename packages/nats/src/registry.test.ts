import type { PortContext } from '@handover/core';
import { silentLogger } from '@handover/testkit';
import type { KV } from '@nats-io/kv';
import { type NatsConnection, TimeoutError } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { jetstreamSetup } from './jetstream-setup.js';
import { serviceNames } from './names.js';
import { Registry } from './registry.js';
import { ReplicaPolicy } from './replicas.js';
import { parseEntry } from './wire.js';

const silent = silentLogger;

/** A bucket whose create lands but whose answer is lost (a timeout at the client). */
function lossyBucket() {
  const store = new Map<string, { value: Uint8Array; revision: number }>();
  const deleted: string[] = [];
  let revision = 0;
  const kv = {
    status: async () => ({ ttl: 3000, replicas: 1 }),
    create: async (key: string, value: Uint8Array) => {
      store.set(key, { value, revision: ++revision });
      throw new Error('TIMEOUT');
    },
    get: async (key: string) => {
      const found = store.get(key);
      return found ? { ...found, operation: 'PUT' } : null;
    },
    delete: async (key: string, options: { previousSeq: number }) => {
      if (store.get(key)?.revision !== options.previousSeq) throw new Error('wrong last sequence');
      store.delete(key);
      deleted.push(key);
    },
  };
  return { kv: kv as unknown as KV, store, deleted };
}

function registryOn(kv: KV, instance: string): Registry {
  const context = {
    id: 'w-1',
    instance,
    deregistered: false,
    count: () => {},
    timing: { heartbeatMs: 1000, warmupTimeoutMs: 60_000 },
    snapshot: () => ({
      service: 'orders',
      id: 'w-1',
      instance,
      version: '1.0.0',
      hostname: 'w-1',
      addresses: [],
      pid: 1,
      metadata: {},
      state: 'warming',
      startedAt: 0,
      readyAt: 0,
      inflight: 0,
      concurrency: 1,
      http: undefined,
    }),
  } as unknown as PortContext;
  return new Registry({
    nc: {} as NatsConnection,
    names: serviceNames('orders'),
    context,
    logger: silent,
    endpoints: () => ({}),
    replicas: new ReplicaPolicy(undefined, silent),
    clustered: false,
    openBucket: async () => kv,
  });
}

describe('Registry', () => {
  it('deletes its entry on deregistration even when the answer to its create never came', async () => {
    const { kv, store, deleted } = lossyBucket();
    const registry = registryOn(kv, 'OwnInstance00000000001');
    await registry.open();
    await expect(registry.write('ready')).rejects.toThrow('TIMEOUT');
    expect(parseEntry(store.get('w-1')?.value ?? new Uint8Array())?.instance).toBe(
      'OwnInstance00000000001',
    );
    await registry.remove();
    expect(deleted).toEqual(['w-1']);
  });

  it('never deletes an entry of another instance it finds there', async () => {
    const { kv, store, deleted } = lossyBucket();
    const registry = registryOn(kv, 'OwnInstance00000000001');
    await registry.open();
    await expect(registry.write('ready')).rejects.toThrow('TIMEOUT');
    const other = registryOn(kv, 'OtherInstance000000001');
    await other.open();
    await expect(other.write('ready')).rejects.toThrow('TIMEOUT');
    // The key now holds the other instance's entry.
    await registry.remove();
    expect(deleted).toEqual([]);
    expect(store.has('w-1')).toBe(true);
  });

  it('retries the read of the bucket it just created while the answer times out (a fresh cluster)', async () => {
    const { kv } = lossyBucket();
    let reads = 0;
    const slow = {
      ...(kv as unknown as Record<string, unknown>),
      status: async () => {
        reads++;
        if (reads === 1) throw new TimeoutError();
        return { ttl: 3000, replicas: 1 };
      },
    } as unknown as KV;
    const registry = registryOn(slow, 'OwnInstance00000000001');
    const setup = jetstreamSetup(new ReplicaPolicy(undefined, silent), silent, {
      deadline: Date.now() + 5000,
    });
    await registry.open(setup);
    expect(reads).toBe(2);
  });

  it('fails with HANDOVER_E_NATS_REGISTRY when that read times out and nothing retries it', async () => {
    const { kv } = lossyBucket();
    const slow = {
      ...(kv as unknown as Record<string, unknown>),
      status: async () => {
        throw new TimeoutError();
      },
    } as unknown as KV;
    await expect(registryOn(slow, 'OwnInstance00000000001').open()).rejects.toMatchObject({
      code: 'HANDOVER_E_NATS_REGISTRY',
    });
  });
});

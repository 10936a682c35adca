import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NatsCluster, startNatsCluster } from './nats-cluster.js';
import { waitFor } from './wait.js';

let cluster: NatsCluster;
const connections: NatsConnection[] = [];
const client = async (servers: string | string[]) => {
  const nc = await connect({ servers, reconnectTimeWait: 100, maxReconnectAttempts: -1 });
  connections.push(nc);
  return nc;
};

/** `$JS.API.STREAM.INFO` through a plain request: the stream's cluster as JetStream reports it. */
async function streamCluster(nc: NatsConnection, stream: string) {
  const reply = await nc.request(`$JS.API.STREAM.INFO.${stream}`, undefined, { timeout: 5000 });
  return reply.json<{ cluster?: { leader?: string; replicas?: { name: string }[] } }>().cluster;
}

beforeAll(async () => {
  cluster = await startNatsCluster({ size: 3 });
});
afterAll(async () => {
  for (const nc of connections.splice(0)) await nc.close();
  await cluster?.dispose();
});

describe('startNatsCluster', () => {
  it('starts nodes on ports of their own, routed as one cluster with a JetStream meta leader', async () => {
    const ports = cluster.servers.flatMap((n) => [n.port, n.clusterPort, n.monitorPort]);
    expect(new Set(ports).size).toBe(9);
    expect(ports).not.toContain(4222);
    expect(cluster.url).toBe(cluster.urls.join(','));
    for (const node of cluster.servers) {
      const nc = await client(node.url);
      expect(nc.info).toMatchObject({ server_name: node.name, cluster: cluster.name });
      expect([...(nc.info?.connect_urls ?? [])].sort()).toEqual(
        cluster.servers.map((n) => `127.0.0.1:${n.port}`).sort(),
      );
    }
    expect(cluster.servers).toContain(await cluster.metaLeader());
  });

  it('finds the leader of a stream and of a bucket, and the node of a connection', async () => {
    const nc = await client(cluster.urls[1] as string);
    expect(cluster.nodeOf(nc)).toBe(cluster.servers[1]);
    expect(cluster.nodeOf('n3')).toBe(cluster.servers[2]);
    expect(cluster.nodeOf(cluster.servers[0]?.port as number)).toBe(cluster.servers[0]);
    const created = await nc.request(
      '$JS.API.STREAM.CREATE.kit',
      JSON.stringify({ name: 'kit', subjects: ['kit.>'], num_replicas: 3 }),
      { timeout: 5000 },
    );
    expect(created.json()).not.toHaveProperty('error');
    const leader = await cluster.leaderOf({ stream: 'kit' });
    expect((await streamCluster(nc, 'kit'))?.leader).toBe(leader.name);
    await new Kvm(nc).create('kitbucket', { replicas: 3 });
    const bucketLeader = await cluster.bucketLeader('kitbucket');
    expect((await streamCluster(nc, 'KV_kitbucket'))?.leader).toBe(bucketLeader.name);
  });

  it('restarts a killed leader on the same ports with the same store', async () => {
    const nc = await client([...cluster.urls]);
    const leader = await cluster.leaderOf({ stream: 'kit' });
    const port = leader.port;
    await leader.kill();
    expect(leader.running).toBe(false);
    const next = await cluster.leaderOf({ stream: 'kit' });
    expect(next).not.toBe(leader);
    await leader.restart();
    expect(leader.port).toBe(port);
    await cluster.waitHealthy();
    // Back from its own store: it holds the stream again, as a follower.
    const view = await leader.monitor<{ streams: number }>('/jsz');
    expect(view.streams).toBeGreaterThanOrEqual(2);
    expect((await streamCluster(nc, 'kit'))?.replicas?.map((r) => r.name)).toContain(leader.name);
  });

  it('puts a node in lame-duck mode: its clients are told, move, and the node exits', async () => {
    const node = cluster.servers[0];
    if (!node) throw new Error('no node');
    const nc = await client(node.url);
    const statuses: string[] = [];
    void (async () => {
      for await (const status of nc.status()) statuses.push(status.type);
    })();
    await node.lameDuck();
    await waitFor(() => statuses.includes('ldm'), { what: 'the ldm notice' });
    await node.exited();
    expect(node.running).toBe(false);
    await waitFor(() => nc.info?.server_name !== node.name && statuses.includes('reconnect'), {
      what: 'the client to reconnect to another node',
    });
    await node.restart();
    await cluster.waitHealthy();
  }, 60_000);

  it('refuses fewer than 2 nodes', async () => {
    await expect(startNatsCluster({ size: 1 })).rejects.toThrow(
      'Expected `size` to be an integer >= 2, got 1',
    );
  });
});

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Asset, health, type Jsz, jszPath, leaderIn, monitorJson } from './nats-monitor.js';
import { type NatsProcess, natsProcess } from './nats-process.js';
import { findNatsServer, type NatsServer } from './nats-server.js';
import { getStablePort } from './stable-port.js';
import { waitFor } from './wait.js';

/** Options of {@link startNatsCluster}. */
export interface NatsClusterOptions {
  /** Number of nodes, at least 2. @default 3 */
  readonly size?: number;
  /** The cluster name. @default 'handover-<random>' */
  readonly name?: string;
  /** JetStream on every node, each with its own store. @default true */
  readonly jetstream?: boolean;
  /** More configuration (auth, limits) for every node, appended to the kit's own. */
  readonly config?: string;
  /** Extra command-line arguments of every node. */
  readonly args?: readonly string[];
  /**
   * How long a node in lame-duck mode waits before it closes its clients; it exits at most
   * 30 s (nats-server's minimum `lame_duck_duration`) after it entered the mode.
   * @default 2000
   */
  readonly lameDuckGracePeriodMs?: number;
  /** How long one node may take to log "Server is ready". @default 10000 */
  readonly startTimeoutMs?: number;
  /** How long the cluster (or a restarted node) may take to be healthy. @default 30000 */
  readonly formTimeoutMs?: number;
}

/** One node of a {@link NatsCluster}. */
export interface NatsClusterNode extends NatsServer {
  /** Its `server_name` (what INFO, `/jsz` and JetStream's `cluster.leader` call it). */
  readonly name: string;
  /** Port of its routes to the other nodes. */
  readonly clusterPort: number;
  /** Port of its monitoring endpoint (`/varz`, `/jsz`, `/healthz`). */
  readonly monitorPort: number;
  /**
   * Starts again on the same ports with the same store (or an empty one when `fresh`), and
   * waits until it is healthy (`/healthz`: back in the cluster, JetStream caught up).
   */
  restart(options?: { readonly fresh?: boolean }): Promise<void>;
  /** Its `/healthz`: `'ok'`, or the reason it is not. */
  health(): Promise<string>;
  /** GETs a path of its monitoring endpoint as JSON. */
  monitor<T = Record<string, unknown>>(path: string): Promise<T>;
}

/** Something that names the node a client is connected to. */
export type NodeRef =
  | string
  | number
  | { readonly info?: { readonly server_name?: string; readonly port?: number } | undefined };

/** N nats-servers routed together on loopback. */
export interface NatsCluster {
  readonly name: string;
  readonly servers: readonly NatsClusterNode[];
  /** Client URLs of every node. */
  readonly urls: readonly string[];
  /** The URLs comma-separated, as `NATS_URL` takes them. */
  readonly url: string;
  /** The node with this server name or client port, or the node a connection is on. */
  nodeOf(ref: NodeRef): NatsClusterNode;
  /** Waits until every running node is healthy and sees a route to every other running node. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  /** The node leading the JetStream meta group. */
  metaLeader(timeoutMs?: number): Promise<NatsClusterNode>;
  /** The node leading a stream's (or a consumer's) raft group, as that node itself says. */
  leaderOf(asset: Asset, timeoutMs?: number): Promise<NatsClusterNode>;
  /** The node leading the stream `KV_<bucket>` of a KV bucket. */
  bucketLeader(bucket: string, timeoutMs?: number): Promise<NatsClusterNode>;
  /** Kills every node and removes their directories. */
  dispose(): Promise<void>;
}

interface Ports {
  client: number;
  cluster: number;
  monitor: number;
}

/** `count` distinct stable ports (see getStablePort: a stopped node gets its ports back). */
async function pickPorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await getStablePort());
  return [...ports];
}

const routeUrl = (ports: Ports) => `nats://127.0.0.1:${ports.cluster}`;

/**
 * Starts `size` nats-servers (2.9 or later) on free 127.0.0.1 ports, routed to each other as
 * one cluster with JetStream on every node, and waits until every node is healthy: routes up,
 * a JetStream meta leader elected. Each node can be stopped, killed, put in lame-duck mode and
 * restarted on the same ports with the same store.
 */
export async function startNatsCluster(options: NatsClusterOptions = {}): Promise<NatsCluster> {
  const size = options.size ?? 3;
  // One node is no cluster: nats-server 2.9 refuses clustered JetStream without routes, and
  // a node routed only to itself never elects a meta leader.
  if (!Number.isSafeInteger(size) || size < 2) {
    throw new TypeError(`Expected \`size\` to be an integer >= 2, got ${String(size)}`);
  }
  const bin = findNatsServer();
  if (!bin)
    throw new Error(
      'nats-server not found: install it (apt-get install nats-server) or set NATS_SERVER_BIN',
    );
  const name = options.name ?? `handover-${randomBytes(3).toString('hex')}`;
  const formTimeoutMs = options.formTimeoutMs ?? 30_000;
  const root = mkdtempSync(join(tmpdir(), 'handover-nats-cluster-'));
  const ports: Ports[] = [];
  const assignPorts = async (): Promise<void> => {
    const picked = await pickPorts(3 * size);
    ports.length = 0;
    for (let i = 0; i < size; i++) {
      ports.push({
        client: picked[3 * i] as number,
        cluster: picked[3 * i + 1] as number,
        monitor: picked[3 * i + 2] as number,
      });
    }
  };
  await assignPorts();
  // Lame duck within a test's time: 30 s is nats-server's minimum duration.
  const config = [
    'lame_duck_duration: "30s"',
    `lame_duck_grace_period: "${options.lameDuckGracePeriodMs ?? 2000}ms"`,
    options.config ?? '',
  ].join('\n');

  const procs: NatsProcess[] = [];
  const nodes = Array.from({ length: size }, (_, i): NatsClusterNode => {
    const nodeName = `n${i + 1}`;
    const dir = join(root, nodeName);
    const own = (): Ports => ports[i] as Ports;
    const conf = join(root, `${nodeName}.conf`);
    writeFileSync(conf, config);
    const args = (): string[] => {
      const routes = ports.filter((_, j) => j !== i).map(routeUrl);
      return [
        ...['-a', '127.0.0.1', '-p', String(own().client), '-m', String(own().monitor)],
        ...['-n', nodeName, '--cluster_name', name, '--cluster', routeUrl(own())],
        ...['--routes', routes.join(',')],
        ...['-c', conf],
        ...((options.jetstream ?? true) ? ['-js', '-sd', join(dir, 'store')] : []),
        ...(options.args ?? []),
      ];
    };
    const proc = natsProcess({
      bin,
      args,
      label: () => `nats-server ${nodeName} of ${name} (port ${own().client})`,
      startTimeoutMs: options.startTimeoutMs ?? 10_000,
    });
    procs.push(proc);
    const nodeHealth = () => health(own().monitor);
    return {
      name: nodeName,
      dir,
      get url() {
        return `nats://127.0.0.1:${own().client}`;
      },
      get port() {
        return own().client;
      },
      get clusterPort() {
        return own().cluster;
      },
      get monitorPort() {
        return own().monitor;
      },
      get running() {
        return proc.running;
      },
      get pid() {
        return proc.pid;
      },
      stop: () => proc.terminate('SIGTERM'),
      kill: () => proc.terminate('SIGKILL'),
      lameDuck: proc.lameDuck,
      exited: proc.exited,
      restart: async (restartOptions = {}) => {
        await proc.terminate('SIGTERM');
        if (restartOptions.fresh) rmSync(join(dir, 'store'), { recursive: true, force: true });
        await proc.launch();
        await waitFor(async () => (await nodeHealth()) === 'ok' || undefined, {
          timeoutMs: formTimeoutMs,
          intervalMs: 100,
          what: `${nodeName} to be healthy again`,
        });
      },
      dispose: async () => {
        await proc.terminate('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
      },
      log: proc.log,
      health: nodeHealth,
      monitor: <T>(path: string) => monitorJson<T>(own().monitor, path),
    };
  });

  const cluster = clusterOf(name, nodes, formTimeoutMs, async () => {
    await Promise.all(nodes.map((node) => node.dispose()));
    rmSync(root, { recursive: true, force: true });
  });
  try {
    // A port picked a moment ago may have been taken since: pick all again and relaunch.
    for (let attempt = 1; ; attempt++) {
      const results = await Promise.allSettled(procs.map((proc) => proc.launch()));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (!failed) break;
      await Promise.all(nodes.map((node) => node.kill()));
      const message = (failed.reason as Error).message;
      if (attempt >= 3 || !/address already in use/i.test(message)) throw failed.reason;
      await assignPorts();
    }
    await cluster.waitHealthy();
  } catch (error) {
    const logs = nodes.map((node) => `--- ${node.name} ---\n${node.log().slice(-1500)}`);
    await cluster.dispose();
    throw new Error(
      `cluster ${name} did not start: ${(error as Error).message}\n${logs.join('\n')}`,
    );
  }
  return cluster;
}

function clusterOf(
  name: string,
  nodes: readonly NatsClusterNode[],
  formTimeoutMs: number,
  dispose: () => Promise<void>,
): NatsCluster {
  const running = () => nodes.filter((node) => node.running);
  const nodeOf = (ref: NodeRef): NatsClusterNode => {
    const found =
      typeof ref === 'string'
        ? nodes.find((node) => node.name === ref)
        : typeof ref === 'number'
          ? nodes.find((node) => node.port === ref)
          : (nodes.find((node) => node.name === ref.info?.server_name) ??
            nodes.find((node) => node.port === ref.info?.port));
    if (!found) throw new Error(`no node of cluster ${name} matches ${JSON.stringify(ref)}`);
    return found;
  };
  /** The node that names itself as the leader in its own view (`pick` reads a view). */
  const selfLeader = (
    pick: (jsz: Jsz) => string | undefined,
    what: string,
    timeoutMs: number,
  ): Promise<NatsClusterNode> =>
    waitFor(
      async () => {
        for (const node of running()) {
          const leader = pick(await node.monitor<Jsz>(jszPath).catch(() => ({})));
          if (leader === node.name) return node;
        }
        return undefined;
      },
      { timeoutMs, intervalMs: 50, what },
    );
  return {
    name,
    servers: nodes,
    get urls() {
      return nodes.map((node) => node.url);
    },
    get url() {
      return nodes.map((node) => node.url).join(',');
    },
    nodeOf,
    waitHealthy: async (timeoutMs = formTimeoutMs) => {
      await waitFor(
        async () => {
          const up = running();
          const states = await Promise.all(
            up.map(async (node) => {
              const state = await node.health();
              if (state !== 'ok') return `${node.name}: ${state}`;
              const routez = await node.monitor<{ num_routes?: number }>('/routez');
              const routes = routez.num_routes ?? 0;
              return routes >= up.length - 1 ? '' : `${node.name}: ${routes} route(s)`;
            }),
          );
          const problems = states.filter(Boolean);
          if (problems.length > 0) throw new Error(problems.join('; '));
          return true;
        },
        { timeoutMs, intervalMs: 100, what: `cluster ${name} to be healthy` },
      );
    },
    metaLeader: (timeoutMs = formTimeoutMs) =>
      selfLeader((jsz) => jsz.meta_cluster?.leader, 'a JetStream meta leader', timeoutMs),
    leaderOf: (asset, timeoutMs = formTimeoutMs) =>
      selfLeader(
        (jsz) => leaderIn(jsz, asset),
        `a leader of ${asset.consumer ? `consumer ${asset.consumer} of ` : ''}stream ${asset.stream}`,
        timeoutMs,
      ),
    bucketLeader: (bucket, timeoutMs = formTimeoutMs) =>
      selfLeader(
        (jsz) => leaderIn(jsz, { stream: `KV_${bucket}` }),
        `a leader of bucket ${bucket}`,
        timeoutMs,
      ),
    dispose,
  };
}

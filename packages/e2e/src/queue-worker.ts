// The queue worker of examples/queue-worker on Swarm, deployed with the settings of
// examples/deploy/stack.yml: the images, the NATS and worker services, and the registry check.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { serviceFromCompose } from './compose.js';
import { natsImage, nodeImage, versionedImage } from './images.js';
import { inspectNats, type RegistryEntry } from './nats-load.js';
import { repoRoot } from './paths.js';
import { teardown } from './scenario.js';
import {
  createNetwork,
  createService,
  runningContainers,
  type ServiceSpec,
  type TaskContainer,
  type UpdatePolicy,
} from './swarm.js';
import { until } from './until.js';
import { workspaceImage } from './workspace-image.js';

/** The shipped stack file, parsed. */
export function readStack(): { services: Record<string, Record<string, unknown>> } {
  return parse(readFileSync(join(repoRoot, 'examples/deploy/stack.yml'), 'utf8'));
}

/** The images of the scenario; `versions[v]` is the worker image with HANDOVER_VERSION=v. */
export interface QueueWorkerImages {
  readonly node: string;
  readonly nats: string;
  readonly worker: string;
  readonly versions: Readonly<Record<string, string>>;
  /** How the worker image differs from `docker build -f examples/deploy/Dockerfile .`. */
  readonly differences: readonly string[];
  readonly ms: number;
}

/** Builds (or finds) every image: base, NATS, the worker, and one tag per version. */
export async function queueWorkerImages(versions: readonly string[]): Promise<QueueWorkerImages> {
  const started = Date.now();
  const node = await nodeImage();
  const nats = await natsImage();
  const worker = await workspaceImage({
    packageName: '@handover/example-queue-worker',
    name: 'queue-worker',
    dockerfile: 'examples/deploy/Dockerfile',
    base: node,
  });
  const tags: Record<string, string> = {};
  for (const version of versions) tags[version] = await versionedImage(worker.tag, version);
  return {
    node,
    nats,
    worker: worker.tag,
    versions: tags,
    differences: worker.differences,
    ms: Date.now() - started,
  };
}

/** A deployment: the network, NATS and the worker service. */
export interface Deployment {
  readonly prefix: string;
  readonly network: string;
  readonly nats: string;
  readonly natsUrl: string;
  readonly worker: string;
  /** HANDOVER_SERVICE of the workers. */
  readonly service: string;
  readonly images: QueueWorkerImages;
}

const names = (prefix: string) => ({
  network: `${prefix}-net`,
  nats: `${prefix}-nats`,
  worker: `${prefix}-worker`,
});

/**
 * Removes what {@link deployQueueWorker} made with this prefix, also when it failed half-way:
 * the worker first (it deregisters from NATS), then NATS, the network and the volume.
 */
export function removeQueueWorker(prefix: string): Promise<void> {
  const { network, nats, worker } = names(prefix);
  return teardown(prefix, [worker, nats], network);
}

/** Options of {@link deployQueueWorker}. */
export interface DeployOptions {
  readonly prefix: string;
  readonly images: QueueWorkerImages;
  readonly version: string;
  readonly replicas?: number;
  /** Added to the stack's environment (HANDOVER_INTAKE, WARMUP_MS, TASK_MS...). */
  readonly env?: Readonly<Record<string, string>>;
  /** Overrides of the image's HEALTHCHECK. */
  readonly health?: ServiceSpec['health'];
  /** Overrides of the stack's `update_config` (e.g. `{ order: 'stop-first' }`). */
  readonly update?: UpdatePolicy;
}

/**
 * Creates the network and the two services of stack.yml, with what this machine needs: local
 * images, `dnsrr` for NATS (the service VIP is not reachable here), NATS_URL naming the
 * prefixed service, and HANDOVER_VERSION taken from the image rather than pinned in the
 * environment (so that `docker service update --image` changes the version, see docs/docker.md).
 */
export async function deployQueueWorker(
  options: DeployOptions,
): Promise<Deployment & { createMs: number }> {
  const { prefix, images } = options;
  const stack = readStack();
  const { network, nats, worker } = names(prefix);
  const natsUrl = `nats://${nats}:4222`;
  await createNetwork(network);
  // One NATS node: the stack's first, without its cluster arguments. The rolling update is
  // about the workers; losing and upgrading NATS nodes is the cluster tests' (docs/cluster.md),
  // and the stack test deploys the three nodes as shipped.
  const natsSpec = serviceFromCompose(stack.services.nats1 as Record<string, unknown>, {
    name: nats,
    networks: [network],
    image: images.nats,
    volumePrefix: `${prefix}-`,
    endpointMode: 'dnsrr',
  });
  await createService({ ...natsSpec, args: withoutClusterArgs(natsSpec.args ?? []) });
  const spec = serviceFromCompose(stack.services.worker as Record<string, unknown>, {
    name: worker,
    networks: [network],
    image: images.versions[options.version],
    volumePrefix: `${prefix}-`,
    replicas: options.replicas,
    env: { NATS_URL: natsUrl, ...options.env },
    health: options.health,
  });
  const { HANDOVER_VERSION: _pinned, ...env } = spec.env ?? {};
  const createMs = await createService({
    ...spec,
    env,
    update: { ...spec.update, ...options.update },
  });
  return {
    prefix,
    network,
    nats,
    natsUrl,
    worker,
    service: env.HANDOVER_SERVICE ?? 'demo',
    images,
    createMs,
  };
}

/** The registry next to the containers it must describe. */
export interface RegistryCheck {
  readonly entries: readonly RegistryEntry[];
  readonly containers: readonly TaskContainer[];
}

/**
 * Waits until the registry lists exactly the service's running containers, all ready and of
 * `version`: each id is a container's host name and its addresses include that container's IP
 * on the deployment's network. Fails with what it last saw.
 */
export async function registryMatches(
  deployment: Pick<Deployment, 'worker' | 'network' | 'natsUrl' | 'service' | 'images'>,
  {
    version,
    replicas,
    timeoutMs = 60_000,
  }: { version: string; replicas: number; timeoutMs?: number },
): Promise<RegistryCheck> {
  let last: RegistryCheck = { entries: [], containers: [] };
  try {
    return await until(
      async () => {
        const containers = await runningContainers(deployment.worker);
        const { registry } = await inspectNats({
          image: deployment.images.node,
          network: deployment.network,
          natsUrl: deployment.natsUrl,
          service: deployment.service,
        });
        const entries = registry ?? [];
        last = { entries, containers };
        const byHost = new Map(containers.map((c) => [c.hostname, c]));
        const ok =
          containers.length === replicas &&
          entries.length === replicas &&
          entries.every((e) => {
            const container = byHost.get(e.id);
            return (
              container !== undefined &&
              e.hostname === container.hostname &&
              e.state === 'ready' &&
              e.version === version &&
              e.addresses.includes(container.addresses[deployment.network] ?? '-')
            );
          });
        return ok && last;
      },
      {
        timeoutMs,
        intervalMs: 1000,
        what: `${replicas} registry entries of ${version} matching the containers`,
      },
    );
  } catch (error) {
    const seen = {
      entries: last.entries.map((e) => ({
        id: e.id,
        version: e.version,
        state: e.state,
        addresses: e.addresses,
      })),
      containers: last.containers.map((c) => ({
        hostname: c.hostname,
        addresses: c.addresses,
        health: c.health,
      })),
    };
    throw new Error(`${(error as Error).message}; last seen: ${JSON.stringify(seen)}`);
  }
}

/** nats-server arguments with the cluster ones (and their values) taken out: one node. */
export function withoutClusterArgs(args: readonly string[]): string[] {
  const clustered = new Set(['--cluster_name', '--cluster', '--routes', '--server_name']);
  return args.filter((arg, i) => !clustered.has(arg) && !clustered.has(args[i - 1] ?? ''));
}

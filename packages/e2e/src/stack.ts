// `docker stack deploy` of a shipped compose file, with an override file for what this machine
// needs (local images, dnsrr, an attachable network): the closest to what a user runs.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { docker } from './docker.js';
import { e2ePath, repoRoot } from './paths.js';
import { removeNetwork, removeServices, runningContainers } from './swarm.js';
import { until } from './until.js';

/** Writes a compose override file; resolves with its path. */
export function writeOverride(name: string, override: Record<string, unknown>): string {
  const dir = e2ePath('build', 'stacks');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.override.yml`);
  writeFileSync(path, stringify(override));
  return path;
}

/** `docker stack deploy -c <file> -c <override>... <name>` (files relative to the repo root). */
export async function deployStack(name: string, files: readonly string[]): Promise<number> {
  const started = Date.now();
  await docker([
    'stack',
    'deploy',
    ...files.flatMap((file) => ['-c', file.startsWith('/') ? file : join(repoRoot, file)]),
    name,
  ]);
  return Date.now() - started;
}

/** Waits until a service has `replicas` running containers, all healthy if they have a check. */
export async function waitHealthy(
  service: string,
  replicas: number,
  timeoutMs = 120_000,
): Promise<number> {
  const started = Date.now();
  await until(
    async () => {
      const containers = await runningContainers(service);
      return (
        containers.length === replicas &&
        containers.every((c) => c.health === undefined || c.health === 'healthy')
      );
    },
    { timeoutMs, intervalMs: 500, what: `${replicas} healthy containers of ${service}` },
  );
  return Date.now() - started;
}

/**
 * Removes a stack: `first` services before the rest (workers before their broker: `docker
 * stack rm` stops them all at once, and a worker that loses its broker while it drains cannot
 * deregister), then the stack, its network and its volumes.
 */
export async function removeStack(name: string, first: readonly string[] = []): Promise<void> {
  await removeServices(first.map((service) => `${name}_${service}`));
  const services = (
    await docker(['stack', 'services', '--format', '{{.Name}}', name]).catch(() => '')
  )
    .split('\n')
    .filter(Boolean);
  await removeServices(services);
  await docker(['stack', 'rm', name]).catch(() => {});
  const networks = (
    await docker(['network', 'ls', '-q', '--filter', `label=com.docker.stack.namespace=${name}`])
  )
    .split('\n')
    .filter(Boolean);
  for (const network of networks) await removeNetwork(network);
  const volumes = (
    await docker(['volume', 'ls', '-q', '--filter', `label=com.docker.stack.namespace=${name}`])
  )
    .split('\n')
    .filter(Boolean);
  if (volumes.length > 0) await docker(['volume', 'rm', ...volumes]);
}

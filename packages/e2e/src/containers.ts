// Plain containers on a service's overlay network: load generators and one-shot probes. They run
// the base image with the repository mounted read-only at its own path, so a script in
// packages/e2e/containers finds its dependencies in the workspace's node_modules.
import { docker, dockerOutput } from './docker.js';
import { repoRoot } from './paths.js';

/** What to run. */
export interface ContainerRun {
  readonly image: string;
  readonly network: string;
  readonly command: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly name?: string;
  /** Mount the repository read-only at its own path. @default true */
  readonly mountRepo?: boolean;
}

const runArgs = (run: ContainerRun): string[] => [
  '--network',
  run.network,
  ...(run.name ? ['--name', run.name] : []),
  ...(run.mountRepo === false ? [] : ['--volume', `${repoRoot}:${repoRoot}:ro`]),
  ...Object.entries(run.env ?? {}).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
  '--label',
  'handover-e2e=1',
  run.image,
  ...run.command,
];

/** Starts a container in the background; resolves with its id. */
export async function startContainer(run: ContainerRun): Promise<string> {
  return (await docker(['run', '--detach', ...runArgs(run)])).trim();
}

/** Runs a container to its end; resolves with its stdout. */
export function runOnce(run: ContainerRun, timeoutMs = 60_000): Promise<string> {
  return docker(['run', '--rm', ...runArgs(run)], { timeoutMs });
}

/** The path of a script of packages/e2e/containers, as seen inside the container. */
export function containerScript(name: string): string {
  return `${repoRoot}/packages/e2e/containers/${name}`;
}

/**
 * Sends `signal` to a container, waits for it to exit (bounded), and returns its exit code and
 * output; the container is removed.
 */
export async function stopContainer(
  id: string,
  { signal = 'TERM', timeoutMs = 120_000 }: { signal?: string; timeoutMs?: number } = {},
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  await docker(['kill', '--signal', signal, id]).catch(() => {}); // already exited: fine
  const exitCode = Number((await docker(['wait', id], { timeoutMs })).trim());
  const { stdout, stderr } = await logs(id);
  await docker(['rm', '--force', id]).catch(() => {});
  return { exitCode, stdout, stderr };
}

/** A container's stdout and stderr, separately. */
export function logs(id: string): Promise<{ stdout: string; stderr: string }> {
  return dockerOutput(['logs', id]).catch(() => ({ stdout: '', stderr: '' }));
}

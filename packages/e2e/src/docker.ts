// The docker CLI, pointed at the private engine that scripts/docker.sh starts (never at a
// system Docker by accident: only HANDOVER_E2E_DOCKER_HOST chooses another one).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { e2ePath } from './paths.js';

/** A docker command that exited non-zero or timed out; the message carries its stderr. */
export class DockerError extends Error {
  override readonly name = 'DockerError';
  constructor(
    readonly args: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(
      `docker ${args.join(' ').slice(0, 300)} failed (${exitCode === null ? 'timed out' : `exit ${exitCode}`}): ${stderr.trim().slice(-2000)}`,
    );
  }
}

/** `HANDOVER_E2E_DOCKER_HOST`, else the socket of scripts/docker.sh. */
export function dockerHost(env: NodeJS.ProcessEnv = process.env): string {
  return env.HANDOVER_E2E_DOCKER_HOST || `unix://${e2ePath('docker.sock')}`;
}

/**
 * `HANDOVER_E2E_DOCKER`, else Debian's client (it matches Debian's daemon; a newer client's
 * `docker build` wants buildx), else `docker` on PATH.
 */
export function dockerClient(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HANDOVER_E2E_DOCKER) return env.HANDOVER_E2E_DOCKER;
  return existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';
}

/** Options of {@link docker}. */
export interface DockerOptions {
  /** Kill the command after this long. @default 180000 */
  readonly timeoutMs?: number;
  /** Piped to the command's stdin (e.g. a tar stream for `docker import -`). */
  readonly input?: Readable;
}

/** Runs `docker <args>` against the e2e engine; resolves with stdout, rejects with stderr. */
export async function docker(
  args: readonly string[],
  options: DockerOptions = {},
): Promise<string> {
  return (await dockerOutput(args, options)).stdout;
}

/** Like {@link docker}, with stderr too (`docker logs` splits a container's streams so). */
export function dockerOutput(
  args: readonly string[],
  options: DockerOptions = {},
): Promise<{ stdout: string; stderr: string }> {
  const { timeoutMs = 180_000, input } = options;
  return new Promise((resolve, reject) => {
    const child = spawn(dockerClient(), args, {
      // The legacy builder: Debian's daemon has no buildx for the client to drive.
      env: { ...process.env, DOCKER_HOST: dockerHost(), DOCKER_BUILDKIT: '0' },
      stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    if (input && child.stdin) input.pipe(child.stdin);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new DockerError(args, -1, `${dockerClient()}: ${error.message}`));
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      if (code === 0 && !timedOut) resolve({ stdout, stderr });
      else reject(new DockerError(args, timedOut ? null : code, stderr || stdout));
    });
  });
}

/** Runs a docker command whose output is JSON (`inspect`, `--format '{{json .}}'`). */
export async function dockerJson<T>(args: readonly string[], options?: DockerOptions): Promise<T> {
  return JSON.parse(await docker(args, options)) as T;
}

/** Why Docker cannot run the e2e, or its versions when it can. */
export type DockerCheck =
  | { readonly ok: true; readonly host: string; readonly server: string }
  | { readonly ok: false; readonly host: string; readonly reason: string };

/** Checks that the engine answers and is a Swarm manager (what every scenario needs). */
export async function checkDocker(): Promise<DockerCheck> {
  const host = dockerHost();
  const start = 'start it with `bash packages/e2e/scripts/docker.sh ensure` (as root)';
  try {
    const server = (
      await docker(['version', '--format', '{{.Server.Version}}'], {
        timeoutMs: 15_000,
      })
    ).trim();
    const swarm = (
      await docker(['info', '--format', '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}'], {
        timeoutMs: 15_000,
      })
    ).trim();
    if (swarm !== 'active true')
      return {
        ok: false,
        host,
        reason: `Docker ${server} at ${host} is not a Swarm manager (${swarm}); ${start}`,
      };
    return { ok: true, host, server };
  } catch (error) {
    const detail = (error as Error).message.split('\n')[0];
    return { ok: false, host, reason: `no usable Docker engine at ${host}: ${detail}; ${start}` };
  }
}

/** A docker command that streams lines until stopped (`docker events`). */
export interface DockerStream {
  /** Every line so far. */
  readonly lines: readonly string[];
  /** Ends the command; resolves with every line it printed. */
  stop(): Promise<readonly string[]>;
}

/** Starts a docker command that runs until stopped, collecting its output lines. */
export function dockerStream(args: readonly string[]): DockerStream {
  const child = spawn(dockerClient(), args, {
    env: { ...process.env, DOCKER_HOST: dockerHost() },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const lines: string[] = [];
  let rest = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    lines.push(...parts.filter(Boolean));
  });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  child.once('error', () => {});
  return {
    lines,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      return lines;
    },
  };
}

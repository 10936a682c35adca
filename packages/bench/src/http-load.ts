// What the HTTP throughput benchmarks share: a server in a child process (http-server.ts), wrk
// in another, each pinned to its own CPU when `taskset` and two CPUs are there (on a small
// shared machine, where the scheduler puts them otherwise swings the figures by tens of
// percent), and the server's own CPU time per request.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const wrk = process.env.WRK_BIN ?? 'wrk';
const script = fileURLToPath(new URL('./http-server.ts', import.meta.url));
export const pinned =
  process.env.PIN !== '0' && availableParallelism() >= 2 && executable('/usr/bin/taskset');
/** Prefixes a command with `taskset -c <cpu>` when pinning. */
const on = (cpu: number, command: string, args: string[]): [string, string[]] =>
  pinned ? ['/usr/bin/taskset', ['-c', String(cpu), command, ...args]] : [command, args];

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A server of http-server.ts running in a child process. */
export interface ServerProcess {
  readonly child: ChildProcess;
  readonly port: number;
  /** The server's CPU time so far (user + system, every thread), in microseconds. */
  cpuMicros(): Promise<number>;
  stop(): Promise<void>;
}

/** Starts http-server.ts with `env` (FRAMEWORK, ADAPTER…) on the last CPU. */
/**
 * Node options of every server process: `SERVER_NODE_FLAGS` (space-separated), e.g.
 * `--max-semi-space-size=16 --min-semi-space-size=16` to take V8's young-generation sizing out
 * of a comparison (docs/benchmarks.md, "Fastify adapter cost").
 */
const serverNodeFlags = (process.env.SERVER_NODE_FLAGS ?? '').split(' ').filter(Boolean);

export function startServer(env: Record<string, string>): Promise<ServerProcess> {
  return new Promise((resolve, reject) => {
    const [command, args] = on(availableParallelism() - 1, process.execPath, [
      ...serverNodeFlags,
      '--import',
      'tsx',
      script,
    ]);
    const child = spawn(command, args, {
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let buffer = '';
    const replies: ((line: string) => void)[] = [];
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      for (;;) {
        const end = buffer.indexOf('\n');
        if (end === -1) return;
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 1);
        const listening = /^listening (\d+)$/.exec(line);
        if (listening) resolve(server(child, Number(listening[1]), replies));
        else if (line.startsWith('cpu ')) replies.shift()?.(line);
      }
    });
    child.once('exit', (code) =>
      reject(new Error(`server ${JSON.stringify(env)} exited: ${code}`)),
    );
  });
}

function server(
  child: ChildProcess,
  port: number,
  replies: ((line: string) => void)[],
): ServerProcess {
  return {
    child,
    port,
    cpuMicros: () =>
      new Promise((resolve) => {
        replies.push((line) => resolve(Number(line.slice(4))));
        child.stdin?.write('cpu\n');
      }),
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** What one wrk run measured. */
export interface Load {
  readonly rps: number;
  readonly requests: number;
}

/** Runs wrk (`-t1`) against `port` on CPU 0; fails on any non-2xx answer or socket error. */
export async function load(port: number, seconds: number, connections: number): Promise<Load> {
  const [command, args] = on(0, wrk, [
    '-t1',
    `-c${connections}`,
    `-d${seconds}s`,
    `http://127.0.0.1:${port}/`,
  ]);
  const { stdout } = await promisify(execFile)(command, args);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
  const requests = /(\d+) requests in/.exec(stdout);
  if (!rps || !requests || /Non-2xx|Socket errors/.test(stdout)) {
    throw new Error(`wrk failed:\n${stdout}`);
  }
  return { rps: Number(rps[1]), requests: Number(requests[1]) };
}

/** Requests per second, and the server's CPU time per request in microseconds. */
export interface Sample {
  readonly rps: number;
  readonly cpuUs: number;
}

/**
 * Starts a fresh server, warms it up (JIT, connections) for `warmupSeconds`, then measures
 * `seconds` of load and the server's CPU time over exactly that load.
 */
export async function measure(
  env: Record<string, string>,
  options: { seconds: number; warmupSeconds: number; connections: number },
): Promise<Sample> {
  const server = await startServer(env);
  try {
    await load(server.port, options.warmupSeconds, options.connections);
    const before = await server.cpuMicros();
    const { rps, requests } = await load(server.port, options.seconds, options.connections);
    const after = await server.cpuMicros();
    return { rps, cpuUs: (after - before) / requests };
  } finally {
    await server.stop();
  }
}

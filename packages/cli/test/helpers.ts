import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Child, type NatsServer, spawnNode, startNatsServer } from '@handover/testkit';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll } from 'vitest';
import { type CliIo, run } from '../src/index.js';

/** The built command, as `npx handover` runs it. */
export const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
/** The nats package's configurable worker process (built packages). */
export const workerFixture = fileURLToPath(
  new URL('../../nats/test/fixtures/worker.mjs', import.meta.url),
);

/** Per test file: a private nats-server, a connection, and worker processes on it. */
export function useNats(): {
  server: () => NatsServer;
  nc: () => NatsConnection;
  worker: (env: Record<string, string>) => Child;
} {
  let server: NatsServer | undefined;
  let nc: NatsConnection | undefined;
  const children: Child[] = [];
  beforeAll(async () => {
    for (const file of [bin, fileURLToPath(new URL('../../nats/dist/index.js', import.meta.url))])
      if (!existsSync(file)) throw new Error(`${file} is missing: run \`pnpm build\` first`);
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
  });
  afterAll(async () => {
    for (const child of children.splice(0)) child.signal('SIGKILL');
    await nc?.close();
    await server?.dispose();
  });
  return {
    server: () => server as NatsServer,
    nc: () => nc as NatsConnection,
    worker: (env) => {
      const child = spawnNode(workerFixture, {
        env: { NATS_URL: (server as NatsServer).url, ...env },
      });
      children.push(child);
      return child;
    },
  };
}

/** How a run of the built command ended. */
export interface BinResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/**
 * Runs the built `handover` as a child process, with only the given environment variables of
 * NATS (none inherited from the machine running the tests).
 */
export function runBin(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<BinResult> {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('NATS_')),
  );
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { env: { ...clean, ...env }, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error ? Number((error as { code?: unknown }).code ?? 1) : 0;
        resolve({ code, stdout, stderr, ms: Date.now() - started });
      },
    );
  });
}

/** A stream stand-in that keeps what is written. */
export function capture(isTTY = false): {
  write(text: string): boolean;
  isTTY: boolean;
  columns: number;
  text(): string;
} {
  let text = '';
  return {
    write: (chunk: string) => {
      text += chunk;
      return true;
    },
    isTTY,
    columns: 160,
    text: () => text,
  };
}

/** Runs the commands in this process, with a clock the test sets. */
export async function runHere(
  argv: readonly string[],
  io: Partial<CliIo> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = capture();
  const stderr = capture();
  const code = await run(argv, { stdout, stderr, env: {}, timeZone: 'UTC', ...io });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

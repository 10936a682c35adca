import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  getStablePort,
  type LogLine,
  type NatsServer,
  spawnNode,
  startNatsServer,
} from '@handover/testkit';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The packages as npm users get them: `pnpm pack`ed (workspace versions rewritten), installed
// with npm into a fresh project (standing in for the registry until they are published).
const root = fileURLToPath(new URL('../../', import.meta.url));
const packages = readdirSync(join(root, 'packages')).filter(
  (name) =>
    JSON.parse(readFileSync(join(root, 'packages', name, 'package.json'), 'utf8')).private !== true,
);
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const sources = fileURLToPath(new URL('./project/', import.meta.url));

let dir: string;
let server: NatsServer;
let nc: NatsConnection;
const run = (cmd: string, args: string[]) =>
  execFileSync(cmd, args, { cwd: dir, stdio: 'pipe', timeout: 240_000 }).toString();

beforeAll(async () => {
  for (const name of packages) {
    const dist = join(root, 'packages', name, 'dist');
    if (!existsSync(dist)) throw new Error(`packages/${name}/dist is missing: run \`pnpm build\``);
  }
  dir = mkdtempSync(join(tmpdir(), 'handover-consumer-'));
  for (const name of packages) {
    execFileSync('pnpm', ['pack', '--pack-destination', dir], {
      cwd: join(root, 'packages', name),
      stdio: 'pipe',
    });
  }
  const tarballs = readdirSync(dir).filter((file) => file.endsWith('.tgz'));
  expect(tarballs).toHaveLength(packages.length);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  for (const file of readdirSync(sources)) {
    writeFileSync(join(dir, file), readFileSync(join(sources, file)));
  }
  run('npm', [
    'install',
    '--no-audit',
    '--no-fund',
    '--loglevel=error',
    ...tarballs.map((file) => `./${file}`),
    '@types/node@20',
    '@types/express@5',
  ]);
  server = await startNatsServer();
  nc = await connect({ servers: server.url });
}, 300_000);

afterAll(async () => {
  await nc?.close();
  await server?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the packages installed with npm from their tarballs', () => {
  it.each(['worker.mjs', 'worker.cjs'])(
    'run the five-line worker (%s) against NATS_URL whose first server is down',
    async (file) => {
      const down = `nats://127.0.0.1:${await getStablePort()}`;
      const child = spawnNode(join(dir, file), {
        cwd: dir,
        env: { NATS_URL: `${down},${server.url}`, HANDOVER_WORKER_ID: `consumer-${file}` },
      });
      await child.waitForLog((line: LogLine) => line.msg === 'ready', { timeoutMs: 15_000 });
      const reply = await nc.request('handover.orders.tasks', '{"n":1}', { timeout: 5000 });
      expect(reply.json()).toEqual({ echo: { n: 1 } });
      child.signal('SIGTERM');
      expect((await child.waitForExit()).code).toBe(0);
    },
  );

  it('run `npx handover` from the installed @handover/cli against a live worker', async () => {
    const child = spawnNode(join(dir, 'worker.mjs'), {
      cwd: dir,
      env: { NATS_URL: server.url, HANDOVER_WORKER_ID: 'consumer-cli' },
    });
    await child.waitForLog((line: LogLine) => line.msg === 'ready', { timeoutMs: 15_000 });
    const ls = spawnSync('npx', ['--no', 'handover', 'ls', 'orders', '--server', server.url], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(ls.status, ls.stderr).toBe(0);
    expect(ls.stdout).toMatch(/^consumer-cli +0\.0\.0 +ready +0\/\d+ /m);
    child.signal('SIGTERM');
    expect((await child.waitForExit()).code).toBe(0);
    const usage = spawnSync('npx', ['--no', 'handover', 'nope'], { cwd: dir, encoding: 'utf8' });
    expect(usage.status).toBe(2);
  });

  it.each(['node16', 'bundler'])(
    'type-check a strict TypeScript service with moduleResolution %s',
    (resolution) => {
      const check = (project: string) =>
        spawnSync(process.execPath, [tsc, '-p', project], { cwd: dir, encoding: 'utf8' });
      const good = check(`tsconfig.${resolution}.json`);
      expect(good.status, good.stdout + good.stderr).toBe(0);
      // The types are really read: a wrong use is reported.
      const bad = check(`tsconfig.${resolution}.wrong.json`);
      expect(bad.stdout).toMatch(/wrong\.ts\(\d+,\d+\): error TS2322/);
    },
  );
});

// A minimal Express or Fastify server for the throughput benchmarks, with or without the
// Handover adapter. FRAMEWORK=express|fastify, ADAPTER=1 to attach it (Express: MIDDLEWARE=0
// attaches the server only, as with probes on their own port; Fastify: PROBES=0 registers the
// plugin without its probe routes; ADAPTER=attach attaches `fastify.server` with
// attachServer and registers no plugin). HANDOVER_ROOT=<another checkout, built> loads core and the
// Fastify plugin of that build instead (Fastify only), to compare two builds in the same run. Prints
// `listening <port>`; answers `cpu <microseconds>` (its CPU time so far) to `cpu` on stdin.
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type * as Core from '@handover/core';
import type { Logger } from '@handover/core';
import { attachServer, handoverMiddleware } from '@handover/express';
import type * as HandoverFastify from '@handover/fastify';
import type * as Http from '@handover/http';
import Fastify from 'fastify';

const root = process.env.HANDOVER_ROOT || undefined;
const load = <T>(name: string): Promise<T> =>
  import(
    root === undefined
      ? `@handover/${name}`
      : pathToFileURL(`${root}/packages/${name}/dist/index.js`).href
  ) as Promise<T>;
const { createWorker } = await load<typeof Core>('core');
const { attachServer: attachHttp } = await load<typeof Http>('http');

// The bench package has no @types/express (and adds no dependency): a minimal local type.
interface ExpressApp {
  use(handler: unknown): void;
  get(path: string, handler: (req: unknown, res: { send(body: string): void }) => void): void;
  listen(port: number, host: string, callback: () => void): Server;
}
const express = createRequire(import.meta.url)('express') as () => ExpressApp;

const silent: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silent,
};
const adapter = process.env.ADAPTER === '1' || process.env.ADAPTER === 'attach';
const worker = adapter
  ? createWorker({
      service: 'bench',
      identity: { id: 'bench-1', hostname: 'bench', addresses: [] },
      logger: silent,
    })
  : undefined;

async function listenExpress(): Promise<Server> {
  const app = express();
  if (worker && process.env.MIDDLEWARE !== '0') app.use(handoverMiddleware(worker));
  app.get('/', (_req, res) => res.send('ok'));
  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  if (worker) attachServer(worker, server);
  return server;
}

async function listenFastify(): Promise<Server> {
  const app = Fastify({ logger: false });
  // Without the plugin, an empty plugin is registered the way the adapter is: a Fastify app
  // that awaited no `register()` before `listen()` measured 3-4% slower per request here,
  // which would credit the adapter with a speed-up it does not give.
  // EMPTY_PLUGIN=fp registers it the way fastify-plugin does (no encapsulation, like the
  // adapter's); EMPTY_PLUGIN=none registers none.
  const empty = async (): Promise<void> => {};
  if (process.env.EMPTY_PLUGIN === 'fp')
    (empty as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
  if ((!worker || process.env.ADAPTER === 'attach') && process.env.EMPTY_PLUGIN !== 'none')
    await app.register(empty);
  if (worker && process.env.ADAPTER === 'attach') {
    attachHttp(worker, app.server);
  } else if (worker) {
    const { handoverFastify } = await load<typeof HandoverFastify>('fastify');
    await app.register(handoverFastify, { worker, probes: process.env.PROBES !== '0' });
  }
  app.get('/', async () => 'ok');
  await app.listen({ port: 0, host: '127.0.0.1' });
  return app.server;
}

const server = process.env.FRAMEWORK === 'fastify' ? await listenFastify() : await listenExpress();
await worker?.start();
const address = server.address();
process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : 0}\n`);
process.stdin.setEncoding('utf8').on('data', (chunk: string) => {
  for (const _ of chunk.matchAll(/cpu\n/g)) {
    const { user, system } = process.cpuUsage();
    process.stdout.write(`cpu ${user + system}\n`);
  }
});
// The worker handles its own signals; the plain server exits on them (a profile gets written).
if (!worker)
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => process.exit(0));

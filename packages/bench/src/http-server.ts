// A minimal Express or Fastify server for the throughput benchmark, with or without the
// Handover adapter. FRAMEWORK=express|fastify, ADAPTER=1 to attach it (Express: MIDDLEWARE=0
// attaches the server only, as with probes on their own port). Prints `listening <port>`.
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { createWorker, type Logger } from '@handover/core';
import { attachServer, handoverMiddleware } from '@handover/express';
import { handoverFastify } from '@handover/fastify';
import Fastify from 'fastify';

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
const adapter = process.env.ADAPTER === '1';
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
  if (worker) await app.register(handoverFastify, { worker });
  app.get('/', async () => 'ok');
  await app.listen({ port: 0, host: '127.0.0.1' });
  return app.server;
}

const server = process.env.FRAMEWORK === 'fastify' ? await listenFastify() : await listenExpress();
await worker?.start();
const address = server.address();
process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : 0}\n`);
// The worker handles its own signals; the plain server exits on them (a profile gets written).
if (!worker)
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => process.exit(0));

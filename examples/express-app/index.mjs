// An Express 5 app in a Handover worker: probes, request tracking, graceful close. With
// NATS_URL set it also registers in the service registry (its entry carries its `http` URL).
// Environment: PORT (3000), HANDOVER_SERVICE (web), HANDOVER_VERSION, WARMUP_MS, REQUEST_MS.
import { createWorker } from '@handover/core';
import { attachServer, closingSignal, handoverMiddleware } from '@handover/express';
import { readIdentity } from '@handover/identity';
import { natsBroker } from '@handover/nats';
import express from 'express';

const env = process.env;
const sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });

const worker = createWorker({
  service: env.HANDOVER_SERVICE ?? 'web',
  version: env.HANDOVER_VERSION ?? '0.0.0',
  identity: await readIdentity(),
});
worker.warmup('simulated warm-up', (signal) => sleep(Number(env.WARMUP_MS ?? 0), signal));
if (env.NATS_URL) worker.use(natsBroker({ connection: { servers: env.NATS_URL } }));

const app = express();
app.use(handoverMiddleware(worker)); // /livez /readyz /startupz /healthz, before the routes
app.get('/hello', async (_req, res) => {
  await sleep(Number(env.REQUEST_MS ?? 0));
  res.json({ hello: 'world', worker: worker.id, version: worker.version });
});
// A stream that ends when the server starts closing, so it never holds the shutdown.
app.get('/events', (req, res) => {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
  const timer = setInterval(() => res.write(`data: ${new Date().toISOString()}\n\n`), 1000);
  closingSignal(req).addEventListener('abort', () => {
    clearInterval(timer);
    res.end('event: bye\ndata: {}\n\n');
  });
});

const server = app.listen(Number(env.PORT ?? 3000), () => {
  worker.logger.info({ port: server.address().port }, 'listening');
});
attachServer(worker, server); // before start(): every request counts, close is graceful
await worker.start();

// An Express 5 app in a Handover worker: probes, request tracking, graceful close, in one call
// (serve). With NATS_URL set it also registers in the service registry (its entry carries its
// `http` URL). Environment: PORT (3000), HANDOVER_SERVICE (web), HANDOVER_VERSION,
// KEEP_ALIVE_TIMEOUT_MS (65000), and the simulation knobs WARMUP_MS and REQUEST_MS. The worker's identity comes from /etc/hosts.
import { createWorker } from '@handover/core';
import { closingSignal, serve } from '@handover/express';
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

// HANDOVER_SERVICE, when set, wins over the default given here.
const worker = createWorker({ service: env.HANDOVER_SERVICE ?? 'web' });
worker.warmup('simulated warm-up', (signal) => sleep(Number(env.WARMUP_MS ?? 0), signal));
if (env.NATS_URL) worker.use(natsBroker());

const app = express();
app.get('/hello', async (_req, res) => {
  await sleep(Number(env.REQUEST_MS ?? 0));
  res.json({ hello: 'world', worker: worker.id, version: worker.version });
});
// Not idempotent: each call takes the next order number of this process. A load balancer may
// retry it on another server only if it never reached this one (nginx and HAProxy do not retry
// a POST once it was sent), so a POST lost in a shutdown is a failed request, never a retry.
let orders = 0;
app.post('/orders', express.json(), async (req, res) => {
  await sleep(Number(env.REQUEST_MS ?? 0));
  orders += 1;
  res.status(201).json({
    order: orders,
    item: req.body?.item ?? null,
    worker: worker.id,
    version: worker.version,
  });
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

// /livez /readyz /startupz /healthz ahead of the routes; every request counts; graceful close.
const { server } = await serve(worker, app, { port: Number(env.PORT ?? 3000) });
// Behind a load balancer that pools connections (HAProxy, nginx `keepalive`), keep idle
// connections open longer than the balancer does (Node's default is 5 s), so that the balancer
// closes them, never the app at the moment the balancer reuses one. The drain still closes
// them at once (docs/http.md).
server.keepAliveTimeout = Number(env.KEEP_ALIVE_TIMEOUT_MS ?? 65_000);
worker.logger.info({ port: server.address().port }, 'listening');
await worker.start();

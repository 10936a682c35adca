// A Fastify 5 app in a Handover worker: the plugin adds the probes, tracks requests and closes
// gracefully (fastify.close() and its onClose hooks run once the work of every intake is done).
// With NATS_URL set it also registers in the service registry (its entry carries its `http`
// URL). Environment: PORT (3000), HANDOVER_SERVICE (web), HANDOVER_VERSION, and the simulation
// knobs WARMUP_MS and REQUEST_MS. The worker's identity comes from /etc/hosts.
import { createWorker } from '@handover/core';
import { closingSignal, handoverFastify } from '@handover/fastify';
import { natsBroker } from '@handover/nats';
import Fastify from 'fastify';

const env = process.env;
const sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });

// One logger for Fastify and Handover, so that their lines come out in order.
const app = Fastify({ logger: { level: env.HANDOVER_LOG_LEVEL ?? 'info' } });
// HANDOVER_SERVICE, when set, wins over the default given here.
const worker = createWorker({ service: env.HANDOVER_SERVICE ?? 'web', logger: app.log });
worker.warmup('simulated warm-up', (signal) => sleep(Number(env.WARMUP_MS ?? 0), signal));
if (env.NATS_URL) worker.use(natsBroker());

await app.register(handoverFastify, { worker });
app.addHook('onClose', async () =>
  worker.logger.info({}, 'fastify onClose: pools would close here'),
);
app.get('/hello', async () => {
  await sleep(Number(env.REQUEST_MS ?? 0));
  return { hello: 'world', worker: worker.id, version: worker.version };
});
app.get('/events', (req, reply) => {
  reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
  const timer = setInterval(() => reply.raw.write(`data: ${new Date().toISOString()}\n\n`), 1000);
  closingSignal(req.raw).addEventListener('abort', () => {
    clearInterval(timer);
    reply.raw.end('event: bye\ndata: {}\n\n');
  });
});

const address = await app.listen({ port: Number(env.PORT ?? 3000), host: '0.0.0.0' });
worker.logger.info({ address, port: app.server.address().port }, 'listening');
await worker.start();

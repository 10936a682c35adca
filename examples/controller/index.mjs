// An HTTP front for a Handover service: POST /tasks forwards a JSON task over NATS with the
// retrying client, POST /jobs publishes it to JetStream, GET /workers lists the live workers.
// Configured by environment: NATS_URL, HANDOVER_SERVICE, PORT (0: any free port).
import { createServer } from 'node:http';
import { createTaskClient, TaskRequestError, watchWorkers } from '@handover/nats/controller';
import { connect } from '@nats-io/transport-node';

const env = process.env;
const service = env.HANDOVER_SERVICE ?? 'demo';
const nc = await connect({
  servers: env.NATS_URL ?? 'nats://127.0.0.1:4222',
  maxReconnectAttempts: -1,
});
const client = createTaskClient(nc, { service, timeoutMs: Number(env.TASK_TIMEOUT_MS ?? 10_000) });
const workers = await watchWorkers(nc, service);
await workers.loaded;

const maxBody = 64 * 1024;
const readJson = (req) =>
  new Promise((resolve, reject) => {
    let size = 0;
    const chunks = [];
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > maxBody) reject(Object.assign(new Error('body too large'), { status: 413 }));
      else chunks.push(chunk);
    });
    req.on('end', () => {
      try {
        resolve(chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {});
      } catch {
        reject(Object.assign(new Error('body is not JSON'), { status: 400 }));
      }
    });
    req.on('error', reject);
  });

const send = (res, status, body) => {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
};

const routes = {
  'POST /tasks': async (req, res) => {
    const result = await client.request(await readJson(req), {
      ...(req.headers['idempotency-key']
        ? { requestId: String(req.headers['idempotency-key']) }
        : {}),
    });
    send(res, 200, result);
  },
  'POST /jobs': async (req, res) => {
    const ack = await client.publish(await readJson(req));
    send(res, 202, { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate });
  },
  'GET /workers': async (_req, res) => {
    send(res, 200, { service, workers: workers.snapshot() });
  },
};

const server = createServer(async (req, res) => {
  const route = routes[`${req.method} ${(req.url ?? '/').split('?')[0]}`];
  if (!route) return send(res, 404, { error: 'not found' });
  try {
    await route(req, res);
  } catch (error) {
    if (error instanceof TaskRequestError) {
      // A final answer of the workers keeps its status; running out of time is a 503.
      const status = error.code === 'HANDOVER_E_NATS_REQUEST_FAILED' ? (error.status ?? 502) : 503;
      return send(res, status, { error: error.message, code: error.code });
    }
    send(res, error.status ?? 500, { error: error.status ? error.message : 'internal error' });
  }
});
server.listen(Number(env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(JSON.stringify({ msg: 'listening', port: server.address().port, service }));
});

const stop = async () => {
  server.close();
  server.closeIdleConnections();
  await workers.stop();
  await nc.drain();
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);

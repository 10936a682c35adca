import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import {
  getFreePort,
  type LogLine,
  type NatsServer,
  spawnNode,
  startNatsServer,
  waitFor,
} from '@handover/testkit';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const example = (name: string) =>
  fileURLToPath(new URL(`../examples/${name}/index.mjs`, import.meta.url));
const msg = (text: string) => (line: LogLine) => line.msg === text;
let server: NatsServer;
beforeAll(async () => {
  server = await startNatsServer();
});
afterAll(() => server.dispose());

describe.each(['express-app', 'fastify-app'])('examples/%s', (name) => {
  it('serves, advertises its URL in the registry, and answers a request in flight at SIGTERM', async () => {
    const port = await getFreePort();
    const service = name.replace('-app', '');
    const child = spawnNode(example(name), {
      env: {
        PORT: String(port),
        NATS_URL: server.url,
        HANDOVER_SERVICE: service,
        HANDOVER_WORKER_ID: `${service}-1`,
        HANDOVER_VERSION: '1.0.0',
        WARMUP_MS: '300',
        REQUEST_MS: '800',
        HANDOVER_DRAIN_DELAY_MS: '300',
      },
    });
    await child.waitForLog(msg('ready'), { timeoutMs: 15_000 });
    const base = `http://127.0.0.1:${port}`;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);

    const nc = await connect({ servers: server.url });
    const entry = await waitFor(async () =>
      (
        await (
          await new Kvm(nc).open(`handover_${service}`, { allow_direct: true })
        ).get(`${service}-1`)
      )?.json<{
        http?: string;
      }>(),
    );
    expect(entry.http).toMatch(new RegExp(`^http://.+:${port}$`));
    await nc.close();

    // SIGTERM once the request is written: it is served in flight, or in the drain delay.
    const inFlight = new Promise<{ status: number; body: unknown }>((resolve, reject) => {
      const req = request(`${base}/hello`, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      });
      req.on('error', reject).on('finish', () => child.signal('SIGTERM'));
      req.end();
    });
    expect(await inFlight).toEqual({
      status: 200,
      body: { hello: 'world', worker: `${service}-1`, version: '1.0.0' },
    });
    expect((await child.waitForExit()).code).toBe(0);
  });
});

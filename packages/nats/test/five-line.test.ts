import { fileURLToPath } from 'node:url';
import { readIdentitySync } from '@handover/identity';
import { getStablePort, spawnNode } from '@handover/testkit';
import { describe, expect, it } from 'vitest';
import { msg, openBucket, ready, useNats } from './helpers.js';

const fiveLines = fileURLToPath(new URL('./fixtures/five-line.mjs', import.meta.url));
const { nc, server } = useNats();

describe('the five-line worker', () => {
  it('comes up from NATS_URL (first server down) and /etc/hosts, answers, and exits 0 on SIGTERM', async () => {
    const down = `nats://127.0.0.1:${await getStablePort()}`;
    const child = spawnNode(fiveLines, {
      env: { NATS_URL: `${down},${server().url}`, HANDOVER_WORKER_ID: '' },
    });
    await ready(child);
    // The id nobody configured: the host's, as @handover/identity derives it for this process.
    const expected = readIdentitySync({ env: {}, pid: child.pid }).id;
    const entry = await (await openBucket(nc(), 'handover_orders')).get(expected);
    expect(entry?.operation).toBe('PUT');
    const reply = await nc().request('handover.orders.tasks', JSON.stringify({ n: 1 }), {
      timeout: 5000,
    });
    expect(reply.json()).toEqual({ echo: { n: 1 } });
    child.signal('SIGTERM');
    expect((await child.waitForExit()).code).toBe(0);
  });

  it('gives up after HANDOVER_CONNECT_TIMEOUT_MS with exit 1, naming the URL (without its credentials) and the last error', async () => {
    const port = await getStablePort();
    const child = spawnNode(fiveLines, {
      env: {
        NATS_URL: `nats://alice:s3cret-pw@127.0.0.1:${port}`,
        HANDOVER_CONNECT_TIMEOUT_MS: '1500',
      },
    });
    const exit = await child.waitForExit(10_000);
    expect(exit.code).toBe(1);
    const failure = child.logs.find(msg('warm-up failed'));
    const text = JSON.stringify(failure);
    // Credentials are taken out of the URL before it is ever shown.
    expect(text).toContain(`cannot connect to NATS at nats://127.0.0.1:${port}`);
    expect(text).toContain('connectTimeoutMs (1500 ms)');
    expect(text).toMatch(/last error: .*(ECONNREFUSED|refused)/i);
    expect(JSON.stringify(child.logs)).not.toContain('s3cret-pw');
    const hint = child.logs.find((line) =>
      String(line.msg).startsWith('cannot connect to NATS yet'),
    );
    expect(hint?.msg).toContain('HANDOVER_CONNECT_TIMEOUT_MS');
  });
});

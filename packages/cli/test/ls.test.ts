import { waitFor } from '@handover/testkit';
import { Kvm } from '@nats-io/kv';
import { describe, expect, it } from 'vitest';
import { formatAge } from '../src/format.js';
import { runBin, runHere, useNats } from './helpers.js';

const { server, nc, worker } = useNats();
const ready = (child: ReturnType<typeof worker>) =>
  child.waitForLog((line) => line.msg === 'ready', { timeoutMs: 15_000 });

/** A registry entry as a worker writes it. */
function entry(service: string, id: string, over: Record<string, unknown> = {}) {
  const startedAt = Date.now() - 3_723_000; // 1 h 02 min 03 s ago
  return {
    schema: 'handover.worker.v1',
    service,
    id,
    instance: `NUID000000000000000${id.slice(-3)}`,
    version: '1.4.2',
    state: 'ready',
    hostname: id,
    addresses: ['172.18.0.5'],
    pid: 1,
    startedAt: new Date(startedAt).toISOString(),
    readyAt: new Date(startedAt + 1250).toISOString(),
    heartbeatAt: new Date().toISOString(),
    heartbeatMs: 1000,
    inflight: 0,
    concurrency: 8,
    endpoints: { tasks: `handover.${service}.tasks` },
    metadata: {},
    ...over,
  };
}

/** Writes entries into a new bucket; resolves with the server's time of each write. */
async function writeRegistry(service: string, entries: Record<string, unknown>[]) {
  const kv = await new Kvm(nc()).create(`handover_${service}`, { history: 1, ttl: 60_000 });
  const created: number[] = [];
  for (const e of entries) {
    await kv.put(e.id as string, JSON.stringify(e));
    created.push((await kv.get(e.id as string))?.created.getTime() ?? Number.NaN);
  }
  return created;
}

describe('handover ls <service>', () => {
  it('prints the registry aged on its clock from the server time of each write', async () => {
    const [first = 0, last = 0] = await writeRegistry('fixed', [
      entry('fixed', 'fixed-1', { http: 'http://172.18.0.5:3000', inflight: 3 }),
      entry('fixed', 'fixed-2', { state: 'draining', version: '1.4.1', addresses: [] }),
    ]);
    // A fixed clock, 400 ms after the last write.
    const now = last + 400;
    const { code, stdout, stderr } = await runHere(['ls', 'fixed', '-s', server().url], {
      now: () => now,
    });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toBe(
      `ID       VERSION  STATE     INFLIGHT  HEARTBEAT  UPTIME  ADDRESS     HTTP
fixed-1  1.4.2    ready     3/8       ${formatAge(now - first)}       1h02m   172.18.0.5  http://172.18.0.5:3000
fixed-2  1.4.1    draining  0/8       0.4s       1h02m   -           -

fixed: 2 workers (1 ready, 1 draining)
`,
    );

    // 3.5 s later by the same clock: silent for 3 x heartbeat, and nobody answers $SRV.PING.
    const later = await runHere(['ls', 'fixed', '-s', server().url], { now: () => now + 3500 });
    expect(later.stdout).toContain('fixed-2  1.4.1    stale ');
    expect(later.stdout).toContain('fixed: 2 workers (0 ready, 0 draining, 2 stale)');
    expect(later.stdout).not.toContain('registry stalled');
  });

  it('tells a stalled registry from dead workers: those that answer $SRV.PING are alive', async () => {
    const alive = entry('stall', 'stall-1');
    await writeRegistry('stall', [alive, entry('stall', 'stall-2')]);
    // Core NATS keeps working while JetStream elects a leader: stall-1 still answers.
    const sub = nc().subscribe('$SRV.PING.stall', {
      callback: (_error, msg) => {
        msg.respond(
          JSON.stringify({
            type: 'io.nats.micro.v1.ping_response',
            name: 'stall',
            id: alive.instance,
            version: '1.4.2',
            metadata: {},
          }),
        );
      },
    });
    try {
      const { code, stdout } = await runHere(['ls', 'stall', '--json', '-s', server().url], {
        now: () => Date.now() + 5000,
      });
      expect(code).toBe(0);
      const doc = JSON.parse(stdout);
      expect(doc).toMatchObject({ service: 'stall', bucket: 'handover_stall', stalled: true });
      expect(doc.silentMs).toBeGreaterThan(2000);
      expect(
        doc.workers.map((w: { id: string; stale: boolean; answeredPing?: boolean }) => [
          w.id,
          w.stale,
          w.answeredPing ?? false,
        ]),
      ).toEqual([
        ['stall-1', false, true],
        ['stall-2', true, false],
      ]);
      const text = await runHere(['ls', 'stall', '-s', server().url], {
        now: () => Date.now() + 5000,
      });
      expect(text.stdout).toMatch(/^stall-1 .* ready \(ping\) /m);
      expect(text.stdout).toContain('stall: registry stalled: no entry written for');
    } finally {
      sub.unsubscribe();
    }
  });

  it('lists real workers: state, tasks in flight / concurrency, a fresh heartbeat', async () => {
    const env = { SERVICE: 'orders', CONCURRENCY: '4', TASK_MS: '3000', VERSION: '2.1.0' };
    const workers = ['orders-a', 'orders-b'].map((id) =>
      worker({ ...env, HANDOVER_WORKER_ID: id }),
    );
    await Promise.all(workers.map(ready));
    const busy = nc().request('handover.orders.tasks', '{}', { timeout: 10_000 });
    await waitFor(
      async () => {
        const { stdout } = await runHere(['ls', 'orders', '--json', '-s', server().url]);
        return JSON.parse(stdout).workers.some((w: { inflight: number }) => w.inflight === 1);
      },
      { what: 'a task in flight in the registry', timeoutMs: 10_000 },
    );

    const { code, stdout, stderr, ms } = await runBin(['ls', 'orders', '--server', server().url]);
    expect(code, stderr).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID +VERSION +STATE +INFLIGHT +HEARTBEAT +UPTIME +ADDRESS +HTTP$/);
    for (const id of ['orders-a', 'orders-b']) {
      expect(stdout).toMatch(
        new RegExp(
          `^${id} {2}2\\.1\\.0 {4}ready {2}[01]/4 {7}[0-2]\\.\\ds {7}\\d+(\\.\\d)?s +\\S+ +-$`,
          'm',
        ),
      );
    }
    expect(lines.at(-1)).toBe('orders: 2 workers (2 ready, 0 draining)');
    expect(ms, `ls took ${ms} ms`).toBeLessThan(10_000);

    // Both entries, read again if one is missing: a worker starved of CPU for longer than the
    // bucket's TTL (3 x heartbeat, 3 s) drops out of the registry until its next heartbeat, as
    // it should. Seen once with two test suites and valgrind sharing the 2 cores.
    let json = { code: -1, stdout: '' };
    await waitFor(
      async () => {
        json = await runBin(['ls', 'orders', '--json'], { NATS_URL: server().url });
        return json.code !== 0 || JSON.parse(json.stdout).workers.length >= 2;
      },
      { what: 'both workers in `ls --json`', timeoutMs: 10_000 },
    );
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout);
    expect(doc).toMatchObject({ service: 'orders', bucket: 'handover_orders', stalled: false });
    expect(Number.isNaN(Date.parse(doc.at))).toBe(false);
    expect(doc.workers).toHaveLength(2);
    expect(doc.workers[0]).toMatchObject({
      schema: 'handover.worker.v1',
      id: 'orders-a',
      version: '2.1.0',
      state: 'ready',
      concurrency: 4,
      heartbeatMs: 1000,
      stale: false,
      endpoints: { tasks: 'handover.orders.tasks' },
      metadata: { region: 'test' },
    });
    expect(doc.workers[0].heartbeatAgeMs).toBeLessThan(3000);
    expect(doc.workers[0].uptimeMs).toBeGreaterThan(0);
    await busy;
    for (const w of workers) w.signal('SIGTERM');
    await Promise.all(workers.map((w) => w.waitForExit()));
  });
});

describe('handover ls', () => {
  it('lists every handover_* bucket with a SERVICE column', async () => {
    await writeRegistry('alpha', [entry('alpha', 'alpha-1')]);
    await writeRegistry('beta', []);
    const { code, stdout } = await runBin(['ls', '-s', server().url]);
    expect(code).toBe(0);
    expect(stdout.split('\n')[0]).toMatch(/^SERVICE +ID +VERSION +STATE/);
    expect(stdout).toMatch(/^alpha +alpha-1 +1\.4\.2 +ready /m);
    expect(stdout).toContain('alpha: 1 worker (1 ready, 0 draining)');
    expect(stdout).toContain('beta: 0 workers (0 ready, 0 draining)');
    const json = JSON.parse((await runBin(['ls', '--json', '-s', server().url])).stdout);
    const services = json.services.map((s: { service: string }) => s.service);
    expect(services).toEqual([...services].sort());
    expect(services).toEqual(expect.arrayContaining(['alpha', 'beta']));
    expect(json.services.find((s: { service: string }) => s.service === 'beta').workers).toEqual(
      [],
    );
  });
});

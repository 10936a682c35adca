import type { WorkerEntry } from '@handover/nats/wire';
import { describe, expect, it } from 'vitest';
import { viewService } from './fleet.js';
import { jsonLine, PlainLines } from './lines.js';
import { renderViews } from './render.js';
import { formatNs, instanceStats, renderStats } from './stats.js';

const now = Date.UTC(2026, 10, 22, 10, 0, 10, 0);
const worker = (id: string, over: Partial<WorkerEntry> = {}): WorkerEntry => ({
  schema: 'handover.worker.v1',
  service: 'orders',
  id,
  instance: `NUID${id}`,
  version: '1.4.2',
  state: 'ready',
  hostname: id,
  addresses: ['172.18.0.5'],
  pid: 1,
  startedAt: new Date(now - 3_723_000).toISOString(),
  readyAt: new Date(now - 3_720_000).toISOString(),
  heartbeatAt: new Date(now - 400).toISOString(),
  heartbeatMs: 1000,
  inflight: 3,
  concurrency: 8,
  endpoints: { tasks: 'handover.orders.tasks' },
  metadata: {},
  ...over,
});

describe('renderViews (handover ls)', () => {
  it('shows ages on the reader clock, marks the stale and counts by state', () => {
    const view = viewService(
      'orders',
      [
        { entry: worker('orders-1', { http: 'http://172.18.0.5:3000' }), seenAt: now - 400 },
        { entry: worker('orders-2', { state: 'draining', inflight: 1 }), seenAt: now - 120 },
        { entry: worker('orders-0', { addresses: [], version: '1.4.1' }), seenAt: now - 4200 },
      ],
      now,
    );
    expect(renderViews([view], false)).toBe(
      `ID        VERSION  STATE     INFLIGHT  HEARTBEAT  UPTIME  ADDRESS     HTTP
orders-0  1.4.1    stale     3/8       4.2s       1h02m   -           -
orders-1  1.4.2    ready     3/8       0.4s       1h02m   172.18.0.5  http://172.18.0.5:3000
orders-2  1.4.2    draining  1/8       0.1s       1h02m   172.18.0.5  -

orders: 3 workers (1 ready, 1 draining, 1 stale)
stale: no heartbeat for 3 x its interval: the worker died or lost NATS without deregistering; the entry expires with the bucket TTL
`,
    );
  });

  it('says when the registry stalled and keeps the instances that answered $SRV.PING', () => {
    const sightings = [
      { entry: worker('orders-1'), seenAt: now - 6200 },
      { entry: worker('orders-2'), seenAt: now - 5900 },
    ];
    const view = viewService('orders', sightings, now, new Set(['NUIDorders-1']));
    expect(view.stalled).toBe(true);
    expect(renderViews([view], false)).toBe(
      `ID        VERSION  STATE         INFLIGHT  HEARTBEAT  UPTIME  ADDRESS     HTTP
orders-1  1.4.2    ready (ping)  3/8       6.2s       1h02m   172.18.0.5  -
orders-2  1.4.2    stale         3/8       5.9s       1h02m   172.18.0.5  -

orders: 2 workers (1 ready, 0 draining, 1 stale)
orders: registry stalled: no entry written for 5.9s (a JetStream leader election?); workers that answer $SRV.PING are shown "(ping)"
stale: no heartbeat for 3 x its interval: the worker died or lost NATS without deregistering; the entry expires with the bucket TTL
`,
    );
    // Silent and nobody answers: dead workers, not a stall.
    expect(viewService('orders', sightings, now, new Set()).stalled).toBe(false);
  });

  it('lists several services with a SERVICE column, and one without workers', () => {
    const orders = viewService('orders', [{ entry: worker('orders-1'), seenAt: now - 900 }], now);
    const billing = viewService('billing', [], now);
    expect(renderViews([billing, orders], true)).toBe(
      `SERVICE  ID        VERSION  STATE  INFLIGHT  HEARTBEAT  UPTIME  ADDRESS     HTTP
orders   orders-1  1.4.2    ready  3/8       0.9s       1h02m   172.18.0.5  -

billing: 0 workers (0 ready, 0 draining)
orders: 1 worker (1 ready, 0 draining)
`,
    );
  });
});

describe('watch lines', () => {
  const w = { id: 'orders-1', instance: 'NUID1', version: '1.4.2', heartbeatMs: 1000 };
  const fleet = { ready: 2, draining: 1 };

  it('prints one aligned line per transition', () => {
    const lines = new PlainLines('UTC');
    expect(
      [
        { type: 'present' as const, at: now, worker: w, state: 'ready' as const, fleet },
        { type: 'draining' as const, at: now + 1250, worker: w, reason: 'SIGTERM', fleet },
        {
          type: 'gone' as const,
          at: now + 1500,
          worker: w,
          reason: 'stopped',
          drainMs: 231,
          abandoned: 0,
          fleet,
        },
        {
          type: 'gone' as const,
          at: now + 4000,
          worker: { ...w, id: 'b' },
          reason: 'stale',
          fleet,
        },
        { type: 'stalled' as const, at: now + 5000, silentMs: 4100, fleet },
      ].map((t) => lines.format(t)),
    ).toEqual([
      '10:00:10.000  present   orders-1  1.4.2  ready (at start)  [2 ready, 1 draining]',
      '10:00:11.250  draining  orders-1  1.4.2  SIGTERM  [2 ready, 1 draining]',
      '10:00:11.500  gone      orders-1  1.4.2  drained in 231ms, 0 abandoned  [2 ready, 1 draining]',
      '10:00:14.000  gone      b         1.4.2  stale: no heartbeat for 3.0s  [2 ready, 1 draining]',
      '10:00:15.000  stalled   registry stalled: no entry written for 4.1s; workers that answer $SRV.PING are kept  [2 ready, 1 draining]',
    ]);
  });

  it('prints one JSON object per transition with --json', () => {
    const t = {
      type: 'gone' as const,
      at: now,
      worker: w,
      reason: 'stopped',
      drainMs: 231,
      abandoned: 0,
      fleet,
    };
    expect(JSON.parse(jsonLine('orders', t))).toEqual({
      type: 'gone',
      at: '2026-11-22T10:00:10.000Z',
      service: 'orders',
      id: 'orders-1',
      instance: 'NUID1',
      version: '1.4.2',
      reason: 'stopped',
      drainMs: 231,
      abandoned: 0,
      fleet,
    });
  });
});

describe('stats', () => {
  const answer = (id: string, requests: number) => ({
    type: 'io.nats.micro.v1.stats_response',
    name: 'orders',
    id: `NUID${id}`,
    version: '1.4.2',
    metadata: { 'handover.id': id },
    started: new Date(now - 125_000).toISOString(),
    endpoints: [
      {
        name: 'tasks',
        subject: 'handover.orders.tasks',
        queue_group: 'orders',
        num_requests: requests,
        num_errors: requests > 0 ? 1 : 0,
        last_error: requests > 0 ? 'order rejected' : '',
        processing_time: requests * 12_345_678,
        average_processing_time: requests === 0 ? 0 : 12_345_678,
        data: { state: 'ready', inflight: 2 },
      },
    ],
  });

  it('sums each instance and renders a table', () => {
    const rows = [answer('orders-1', 40), answer('orders-2', 0)].map((a) =>
      instanceStats(a, 'orders', now),
    );
    expect(rows[0]).toMatchObject({
      id: 'orders-1',
      requests: 40,
      errors: 1,
      inflight: 2,
      uptimeMs: 125_000,
    });
    expect(
      renderStats(
        'orders',
        rows.filter((r) => r !== undefined),
      ),
    ).toBe(
      `ID        INSTANCE      VERSION  STATE  INFLIGHT  REQUESTS  ERRORS  AVG TIME  UPTIME  LAST ERROR
orders-1  NUIDorders-1  1.4.2    ready  2         40        1       12.3ms    2m05s   order rejected
orders-2  NUIDorders-2  1.4.2    ready  2         0         0       -         2m05s   -

orders: 2 instances, 40 requests, 1 error
`,
    );
    expect(instanceStats({ ...answer('x', 1), name: 'billing' }, 'orders', now)).toBeUndefined();
    expect([850_000, 12_345_678, 1_250_000_000].map(formatNs)).toEqual([
      '850µs',
      '12.3ms',
      '1.25s',
    ]);
  });
});
